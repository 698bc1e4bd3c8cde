-- An algorithm's plan may bound how long one training job runs (issue 17: "a job time limit from the
-- plan"): 0 = no limit of the plan's own (the node's training.max-job-seconds still applies).
ALTER TABLE plans
    ADD COLUMN training_max_job_seconds bigint NOT NULL DEFAULT 0 CHECK (training_max_job_seconds >= 0);
