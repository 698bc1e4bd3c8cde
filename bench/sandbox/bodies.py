#!/usr/bin/env python3
"""The one-item request bodies the wrk benches send, from a bench model's manifest example: as
JSON (SLUG.json) and as binary tensors with a binary output (SLUG.bin, whose JSON header length it
prints as IHCL_SLUG=...; IHCL=... too for the heavy model). setup.py writes them for the models it
publishes; bench/run.sh for the peer.

    bodies.py MODELS_DIR OUT_DIR SLUG...        (slugs: light, medium, heavy)
"""
import json
import struct
import sys

MODELS = {"light": "digits_mlp", "medium": "wide_mlp_2k", "heavy": "resnet18"}


def write(models, out, slug):
    """Writes the slug's two bodies; returns its manifest and the binary body's header length."""
    manifest = json.load(open(f"{models}/{MODELS[slug]}.json"))
    first = manifest["example"]["inputs"][0]
    per_item = 1
    for d in first["shape"][1:]:
        per_item *= d
    item = first["data"][:per_item]
    shape = [1] + first["shape"][1:]
    body = {"inputs": [{"name": first["name"], "datatype": "FP32", "shape": shape, "data": item}]}
    open(f"{out}/{slug}.json", "w").write(json.dumps(body))
    header = json.dumps({"inputs": [{"name": first["name"], "datatype": "FP32", "shape": shape,
                                     "parameters": {"binary_data_size": 4 * per_item}}],
                         "outputs": [{"name": manifest["outputs"][0]["name"], "parameters": {"binary_data": True}}]}).encode()
    open(f"{out}/{slug}.bin", "wb").write(header + struct.pack("<%df" % per_item, *item))
    print(f"IHCL_{slug.upper()}={len(header)}")
    if slug == "heavy":
        print(f"IHCL={len(header)}")
    return manifest


if __name__ == "__main__":
    for s in sys.argv[3:]:
        write(sys.argv[1], sys.argv[2], s)
