-- Which node runs a training or evaluation job (issue 19): the cluster member id of the process that
-- accepted it (a per-process id on a node without a cluster). A node starting up ends the open jobs
-- of processes that are no longer cluster members, not those another live node is running.
-- NULL for jobs from before this migration: any starting node may end them.
ALTER TABLE training_jobs ADD COLUMN runner_node text;
ALTER TABLE evaluation_jobs ADD COLUMN runner_node text;
