-- GETs the path with the API key KEY and counts the answers by status (as bench/sandbox/post.lua).
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("KEY")

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
