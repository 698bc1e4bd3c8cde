-- GETs the paths listed in the file PATHS (one a line), in turn, with the access token TOKEN when
-- given, and counts the answers by status, so the run reports 200s as the client saw them (wrk's own
-- count includes every status). A list of deep keyset cursors, of model pages or of search queries
-- is prepared beforehand by prepare.py, so no request costs the client more than sending it.
local paths = {}
for line in io.lines(os.getenv("PATHS")) do
  if line ~= "" then table.insert(paths, line) end
end
local token = os.getenv("TOKEN") or ""
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok = 0
  other = 0
  i = 0
end

function request()
  i = i % #paths + 1
  local headers = {}
  if token ~= "" then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("GET", paths[i], headers)
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
  io.write(string.format("RESULT ok=%d other=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", o, n,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
