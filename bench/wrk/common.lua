-- Shared by the load scripts: a timed window, answers counted by status, one JSON line for Python.
--
-- wrk runs for the window plus a drain (-d). When the window closes each connection stops sending
-- (delay() holds it), so every request sent gets its answer before wrk stops: the writes the server
-- committed can then be counted against the 2xx answers seen here.
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

local common = {}

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) * 1e-9
end

-- Open the window of a thread: requests are sent for window_s seconds from now.
function common.start(window_s)
  deadline = now() + window_s
  answers_2xx, answers_other, first_failure = 0, 0, ""
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
  if status >= 200 and status < 300 then
    answers_2xx = answers_2xx + 1
  else
    answers_other = answers_other + 1
    if first_failure == "" then
      first_failure = status .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local ok, other = 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("answers_2xx")
    other = other + thread:get("answers_other")
    local failure = thread:get("first_failure")
    if failure ~= "" then
      io.write("first non-2xx answer: ", failure, "\n")
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"answers_2xx": %d, "answers_other": %d, "socket_errors": %d, "timeouts": %d, '
      .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    ok, other, errors.connect + errors.read + errors.write, errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max
  ))
end

return common
