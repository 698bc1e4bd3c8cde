#!/usr/bin/env python3
"""Seeds a benchmark tenant on a running server: signs up, uploads and publishes the light
(digits_mlp) and heavy (resnet18) models as private models, makes an API key, and writes the
request bodies wrk sends. Prints KEY=..., IHCL=... lines for the shell.

    setup.py BASE_URL MODELS_DIR OUT_DIR
"""
import json
import struct
import sys
import urllib.request

base, models, out = sys.argv[1], sys.argv[2], sys.argv[3]


def call(method, path, token=None, body=None, raw=None, ctype="application/json"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", ctype)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read() or b"null")


signup = call("POST", "/api/v1/auth/signup", body={"organisation": "Bench", "email": "bench@bench.test",
                                                   "password": "bench-password-1"})
token = signup["session"]["accessToken"]
for name, slug in (("digits_mlp", "light"), ("resnet18", "heavy")):
    manifest = json.load(open(f"{models}/{name}.json"))
    for k in ("expected_outputs", "evaluation"):
        manifest.pop(k, None)
    sha = call("POST", "/api/v1/uploads", token, raw=open(f"{models}/{name}.pt", "rb").read(),
               ctype="application/octet-stream")["sha256"]
    call("POST", "/api/v1/models", token, {"slug": slug, "name": slug, "summary": "bench", "task": "bench",
                                           "tags": ["bench"], "visibility": "private"})
    call("POST", f"/api/v1/models/{slug}/versions", token, {"version": "1.0.0", "artifactSha256": sha,
                                                            "manifest": manifest})
    call("POST", f"/api/v1/models/{slug}/versions/1.0.0/publish", token)
    first = manifest["example"]["inputs"][0]
    per_item = 1
    for d in first["shape"][1:]:
        per_item *= d
    item = first["data"][:per_item]
    shape = [1] + first["shape"][1:]
    if slug == "light":
        body = {"inputs": [{"name": first["name"], "datatype": "FP32", "shape": shape, "data": item}]}
        open(f"{out}/light.json", "w").write(json.dumps(body))
    else:
        out_name = manifest["outputs"][0]["name"]
        header = json.dumps({"inputs": [{"name": first["name"], "datatype": "FP32", "shape": shape,
                                         "parameters": {"binary_data_size": 4 * per_item}}],
                             "outputs": [{"name": out_name, "parameters": {"binary_data": True}}]}).encode()
        open(f"{out}/heavy.bin", "wb").write(header + struct.pack("<%df" % per_item, *item))
        print(f"IHCL={len(header)}")
key = call("POST", "/api/v1/api-keys", token, {"name": "bench"})["secret"]
print(f"KEY={key}")
