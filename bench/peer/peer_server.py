#!/usr/bin/env python3
"""The peer: the Python server a team would write to serve a TorchScript model, without batching.

    /usr/bin/python3 bench/peer/peer_server.py --port 8500 --model NAME=path/to/NAME.pt ...

FastAPI + uvicorn (Debian's python3-fastapi, python3-uvicorn, python3-torch), one process, one
PyTorch thread, one forward pass per request. It answers the Open Inference Protocol's
POST /v2/models/{name}/infer with the same JSON body as ModelMarket, and the binary tensor data
extension (Inference-Header-Content-Length) for inputs and outputs. No authentication, no
metering, no input checks beyond what torch itself refuses: it is the cheap baseline.
GET /v2/health/ready answers when the models are loaded; GET /versions names the libraries.
"""

import argparse
import json
import sys

import fastapi
import torch
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

DTYPES = {"FP32": torch.float32, "FP64": torch.float64, "INT32": torch.int32, "INT64": torch.int64}
NAMES = {v: k for k, v in DTYPES.items()}

app = FastAPI()
models = {}


@app.get("/v2/health/ready")
def ready():
    return {"ready": bool(models)}


@app.get("/versions")
def versions():
    return {"python": sys.version.split()[0], "torch": torch.__version__, "fastapi": fastapi.__version__,
            "uvicorn": uvicorn.__version__, "threads": torch.get_num_threads()}


@app.post("/v2/models/{name}/infer")
async def infer(name: str, request: Request):
    model = models.get(name)
    if model is None:
        return JSONResponse({"error": f"unknown model {name}"}, status_code=404)
    body = await request.body()
    header_length = request.headers.get("inference-header-content-length")
    request_json = json.loads(body if header_length is None else body[:int(header_length)])
    inputs = read_inputs(request_json, body, header_length)
    with torch.inference_mode():
        result = model(*inputs)
    outputs = list(result) if isinstance(result, (tuple, list)) else [result]
    return respond(name, request_json, outputs)


def read_inputs(request_json, body, header_length):
    tensors = []
    offset = 0 if header_length is None else int(header_length)
    for spec in request_json["inputs"]:
        dtype = DTYPES[spec["datatype"]]
        size = spec.get("parameters", {}).get("binary_data_size")
        if size is None:
            tensors.append(torch.tensor(spec["data"], dtype=dtype).reshape(spec["shape"]))
        else:
            raw = bytearray(body[offset:offset + size])
            offset += size
            tensors.append(torch.frombuffer(raw, dtype=dtype).reshape(spec["shape"]))
    return tensors


def respond(name, request_json, outputs):
    wanted = request_json.get("outputs") or []
    binary = bool(request_json.get("parameters", {}).get("binary_data_output")) or any(
        o.get("parameters", {}).get("binary_data") for o in wanted)
    names = [o["name"] for o in wanted] or [f"output_{i}" for i in range(len(outputs))]
    body = {"model_name": name, "outputs": []}
    if "id" in request_json:
        body["id"] = request_json["id"]
    blobs = []
    for out_name, t in zip(names, outputs):
        entry = {"name": out_name, "datatype": NAMES[t.dtype], "shape": list(t.shape)}
        if binary:
            blob = t.contiguous().numpy().tobytes()
            entry["parameters"] = {"binary_data_size": len(blob)}
            blobs.append(blob)
        else:
            entry["data"] = t.reshape(-1).tolist()
        body["outputs"].append(entry)
    if not binary:
        return JSONResponse(body)
    header = json.dumps(body, separators=(",", ":")).encode()
    return Response(header + b"".join(blobs), media_type="application/octet-stream",
                    headers={"Inference-Header-Content-Length": str(len(header))})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", action="append", required=True, help="NAME=path.pt")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    for spec in args.model:
        name, path = spec.split("=", 1)
        models[name] = torch.jit.load(path).eval()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
