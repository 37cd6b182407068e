-- Shared by the load scripts: a timed window, answers counted by status, each request timed, one
-- JSON line for Python.
--
-- wrk runs for the window plus a drain (-d). When the window closes each connection stops sending
-- (delay() holds it), so every request sent gets its answer before wrk stops: the writes the server
-- committed can then be counted against the 2xx answers seen here.
--
-- The latencies are timed here, not read from wrk's histogram: at the end of a run wrk 4 adds to its
-- histogram, for every latency of at least twice a connection's mean interval between requests, one
-- made-up sample per interval below it (its correction for coordinated omission, stats_correct), so
-- its percentiles are not those of the answers it received. Each request carries its send time in
-- X-Request-ID, which the server answers back, and response() takes the difference on the same clock.
local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]])

local CLOCK_MONOTONIC = 1
local HOLD_MS = 3600 * 1000
local clock = ffi.new("bench_timespec")
local threads = {}
local deadline = nil
local STAMP = "^wrk%.(%d+)$"

local common = {}

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) * 1e-9
end

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000000 + math.floor(tonumber(clock.tv_nsec) / 1000)
end

-- The request's send time in its X-Request-ID (call it last thing before wrk.format).
function common.stamp(headers)
  headers["X-Request-ID"] = string.format("wrk.%.0f", now_us())
  return headers
end

-- Open the window of a thread: requests are sent for window_s seconds from now.
function common.start(window_s)
  deadline = now() + window_s
  answers_2xx, answers_other, first_failure = 0, 0, ""
  latencies_us, timed = {}, 0
  math.randomseed(os.time() * 1000 + thread_no)
end

function common.money(cents)
  return string.format("%d.%02d", math.floor(cents / 100), cents % 100)
end

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_no", #threads)
end

function delay()
  if now() < deadline then
    return 0
  end
  return HOLD_MS
end

function response(status, headers, body)
  local sent = tonumber(string.match(headers["X-Request-ID"] or "", STAMP))
  if sent then
    timed = timed + 1
    latencies_us[timed] = now_us() - sent
  end
  if status >= 200 and status < 300 then
    answers_2xx = answers_2xx + 1
  else
    answers_other = answers_other + 1
    if first_failure == "" then
      first_failure = status .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

-- The q quantile of sorted values by nearest rank (as bench/wire_latency.py reads the packets').
local function quantile(sorted, q)
  if #sorted == 0 then
    return -1
  end
  return sorted[math.min(#sorted, math.max(1, math.ceil(q * #sorted)))]
end

function done(summary, latency, requests)
  local ok, other, measured = 0, 0, {}
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("answers_2xx")
    other = other + thread:get("answers_other")
    for _, value in ipairs(thread:get("latencies_us")) do
      measured[#measured + 1] = value
    end
    local failure = thread:get("first_failure")
    if failure ~= "" then
      io.write("first non-2xx answer: ", failure, "\n")
    end
  end
  table.sort(measured)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"answers_2xx": %d, "answers_other": %d, "socket_errors": %d, "timeouts": %d, '
      .. '"timed": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "corrected_p99_us": %d}\n',
    ok, other, errors.connect + errors.read + errors.write, errors.timeout, #measured,
    quantile(measured, 0.50), quantile(measured, 0.95), quantile(measured, 0.99), quantile(measured, 1.0),
    latency:percentile(99)
  ))
end

return common
