-- POSTs one prepared body (BODY file) with the API key KEY, counts the answers by status and the
-- serving nodes that answered (X-Served-By), so a point shows whether every node took calls.
-- RESULT prints the 200s as the client saw them and the distinct serving nodes (0 on an all node).
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Authorization"] = "Bearer " .. os.getenv("KEY")
wrk.headers["Content-Type"] = os.getenv("CTYPE") or "application/json"
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
  served = {}
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
  local node = headers["X-Served-By"] or headers["x-served-by"]
  if node then served[node] = (served[node] or 0) + 1 end
end

function done(summary, latency, requests)
  local o, n, nodes = 0, 0, {}
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    n = n + t:get("other")
    for node, count in pairs(t:get("served")) do nodes[node] = (nodes[node] or 0) + count end
  end
  local distinct, least = 0, -1
  for _, count in pairs(nodes) do
    distinct = distinct + 1
    if least < 0 or count < least then least = count end
  end
  io.write(string.format("RESULT ok=%d other=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f nodes=%d least=%d\n", o, n,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000, distinct, math.max(least, 0)))
end
