-- POSTs one prepared body (BODY file) with the API key KEY — or, with BODY empty, GETs the path —
-- and counts the answers by status, so the run reports 200s as the client saw them (wrk's own count
-- includes every status).
local body = os.getenv("BODY") or ""
if body ~= "" then
  local f = assert(io.open(body, "rb"))
  wrk.method = "POST"
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = os.getenv("CTYPE") or "application/json"
else
  wrk.method = "GET"
end
wrk.headers["Authorization"] = "Bearer " .. os.getenv("KEY")
if (os.getenv("IHCL") or "") ~= "" then
  wrk.headers["Inference-Header-Content-Length"] = os.getenv("IHCL")
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok = 0
  other = 0
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local o, n = 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    n = n + t:get("other")
  end
  io.write(string.format("RESULT ok=%d other=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f\n", o, n,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
