-- wrk script: POSTs the body in $BENCH_BODY_FILE with the headers in $BENCH_HEADERS
-- ("Name: value" lines), and prints one machine-readable line with the latency percentiles.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
wrk.body = f:read("*a")
f:close()
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^%s*([^:]+):%s*(.-)%s*$")
  if name then wrk.headers[name] = value end
end

-- $BENCH_DELAY_MS: mean think time before each request on a connection (paced load instead of
-- back-to-back requests). Uniform in [0, 2 × mean], so connections do not fire in lockstep.
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if delay_ms and delay_ms > 0 then
  math.randomseed(os.time())
  function delay()
    return math.random(0, 2 * delay_ms)
  end
end

-- $BENCH_HIST=1: also every recorded latency as [µs, count] pairs, so that several runs' samples
-- can be pooled (a p99 of one 10 s paced run is its 2nd-worst request of ~200).
local function hist(latency)
  if os.getenv("BENCH_HIST") ~= "1" then return "" end
  local parts = {}
  for i = 1, #latency do
    local v, n = latency(i)
    parts[#parts + 1] = string.format("[%d,%d]", v, n)
  end
  return ',"hist":[' .. table.concat(parts, ",") .. "]"
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}%s}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    hist(latency)))
end
