#!/usr/bin/env python3
"""Seeds a running server as MarketSetup does: a publisher uploads and publishes the light
(digits_mlp) and heavy (resnet18) models — or those BENCH_PUBLISH names, of light, medium
(wide_mlp_2k) and heavy — with a pay-as-you-go plan whose rate limit no bench reaches; a consumer
subscribes to them and makes an API key. Writes the one-item request bodies wrk sends, as JSON
(SLUG.json) and as binary tensors with a binary output (SLUG.bin), and prints KEY=..., TOKEN=... (the consumer's session), IHCL=...
(the heavy body's JSON header length) and IHCL_SLUG=... lines for the shell.

    setup.py BASE_URL MODELS_DIR OUT_DIR
"""
import json
import os
import sys
import urllib.error
import urllib.request

import bodies  # beside this file

base, models, out = sys.argv[1], sys.argv[2], sys.argv[3]


def call(method, path, token=None, body=None, raw=None, ctype="application/json"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", ctype)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}")


def sign_up(org, email):
    reply = call("POST", "/api/v1/auth/signup", body={"organisation": org, "email": email,
                                                      "password": "bench-password-1"})
    return reply["session"]["accessToken"]


slugs = os.environ.get("BENCH_PUBLISH", "light heavy").split()
token = sign_up("Bench Publisher", "publisher@bench.test")
for slug in slugs:
    name = bodies.MODELS[slug]
    manifest = bodies.write(models, out, slug)
    for k in ("expected_outputs", "evaluation"):
        manifest.pop(k, None)
    sha = call("POST", "/api/v1/uploads", token, raw=open(f"{models}/{name}.pt", "rb").read(),
               ctype="application/octet-stream")["sha256"]
    call("POST", "/api/v1/models", token, {"slug": slug, "name": slug, "summary": "bench", "task": "image-classification",
                                           "tags": ["bench"], "visibility": "public"})
    call("POST", f"/api/v1/models/{slug}/versions", token, {"version": "1.0.0", "artifactSha256": sha,
                                                            "manifest": manifest})
    call("POST", f"/api/v1/models/{slug}/versions/1.0.0/publish", token)
    call("POST", f"/api/v1/models/{slug}/plans", token, {"name": "Bench pay-as-you-go", "type": "pay_as_you_go",
                                                         "currency": "EUR", "pricePer1000Minor": 1,
                                                         "rateLimitPerMinute": 1000000})
consumer = sign_up("Bench Consumer", "consumer@bench.test")
for slug in slugs:
    plan = call("GET", f"/api/v1/models/{slug}/plans", consumer)["items"][0]["id"]
    call("POST", "/api/v1/subscriptions", consumer, {"model": slug, "planId": plan})
key = call("POST", "/api/v1/api-keys", consumer, {"name": "bench"})["secret"]
print(f"KEY={key}")
print(f"TOKEN={consumer}")  # the consumer's session, for its usage summary
