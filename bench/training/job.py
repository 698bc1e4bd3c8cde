#!/usr/bin/env python3
"""Starts one long training job on a running server, for bench/training/run.sh.

    job.py BASE_URL start      signs up a trainer tenant, publishes its own MLP algorithm, uploads the
                               breast-cancer CSV as a dataset and starts a job with many epochs
                               (batch size 8, no early stopping); prints TOKEN=... JOB=... for the shell
    job.py BASE_URL state TOKEN JOB     prints the job's state and epoch: "running 12/400"
    job.py BASE_URL cancel TOKEN JOB    cancels it
Standard library only.
"""
import json
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def call(base, method, path, token=None, body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base + path, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    req.add_header("Content-Type", "application/octet-stream" if raw is not None else "application/json")
    with urllib.request.urlopen(req, timeout=60) as r:
        text = r.read().decode()
        return json.loads(text) if text else {}


def start(base):
    signup = call(base, "POST", "/api/v1/auth/signup", body={"organisation": "Bench Trainer",
                                                            "email": "trainer@bench.test", "password": "bench-trainer-password"})
    token = signup["session"]["accessToken"]
    recipe = json.loads((ROOT / "serving/fixtures/recipes/mlp_classifier.json").read_text())
    call(base, "POST", "/api/v1/models", token, {"kind": "algorithm", "slug": "bench-mlp", "name": "Bench MLP",
                                                  "task": "tabular-classification", "visibility": "private",
                                                  "algorithm": recipe})
    csv = (ROOT / "serving/fixtures/datasets/breast_cancer.csv").read_bytes()
    sha = call(base, "POST", "/api/v1/uploads", token, raw=csv)["sha256"]
    dataset = call(base, "POST", "/api/v1/datasets", token, {"uploadSha256": sha, "name": "bc", "labelColumn": "label",
                                                             "task": "classification"})["id"]
    job = call(base, "POST", "/api/v1/training-jobs", token, {
        "algorithm": "bench-mlp", "datasetId": dataset,
        "hyperparameters": {"epochs": 500, "batchSize": 1, "earlyStoppingPatience": 0, "hiddenSizes": [64, 32]},
        "target": {"model": "bench-trained"}})["id"]
    print(f"TOKEN={token}")
    print(f"JOB={job}")


def state(base, token, job):
    j = call(base, "GET", "/api/v1/training-jobs/" + job, token)
    p = j.get("progress") or {}
    print(f"{j['state']} {p.get('epoch', 0)}/{p.get('epochs', 0)}")


if __name__ == "__main__":
    base, what = sys.argv[1], sys.argv[2]
    if what == "start":
        start(base)
    elif what == "state":
        state(base, sys.argv[3], sys.argv[4])
    elif what == "cancel":
        call(base, "POST", f"/api/v1/training-jobs/{sys.argv[4]}/cancel", sys.argv[3])
