-- wrk script: one-item OIP inference with an API key; counts answers by status in every thread
-- and prints the totals at the end (wrk's own "requests" counts sockets' replies of any status).
-- After MM_LOAD_SECONDS it sends only GET /health/live (answered 200 too, counted apart): wrk is
-- run a few seconds longer, so that no inference call is still in flight when it stops and every
-- call the server served has its answer counted here.
local key = os.getenv("MM_KEY")
local slug = os.getenv("MM_SLUG") or "soak-digits"
local load_seconds = tonumber(os.getenv("MM_LOAD_SECONDS") or "120")
local infer, drain

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok = 0
  refused = 0
  other = 0
  drained = 0
  sent_drain = false
  stop_at = os.time() + load_seconds
  -- built here, once wrk knows the host
  infer = wrk.format("POST", "/v2/models/" .. slug .. "/infer",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key }, os.getenv("MM_BODY"))
  drain = wrk.format("GET", "/health/live")
end

function request()
  if sent_drain or os.time() >= stop_at then
    sent_drain = true
    return drain
  end
  return infer
end

function response(status, headers, body)
  if status == 200 and string.find(body, "\"status\":\"up\"", 1, true) then
    drained = drained + 1
  elseif status == 200 then
    ok = ok + 1
  elseif status == 503 then
    refused = refused + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local t_ok, t_refused, t_other = 0, 0, 0
  for _, thread in ipairs(threads) do
    t_ok = t_ok + thread:get("ok")
    t_refused = t_refused + thread:get("refused")
    t_other = t_other + thread:get("other")
  end
  io.write(string.format("COUNTS ok=%d s503=%d other=%d socket_errors=%d\n", t_ok, t_refused, t_other,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
