-- Shared by the bench scripts (loaded with dofile from the repository root, where
-- run.sh runs wrk): reading a list file, numbering threads, and one parseable summary.

local next_thread_id = 0

-- Runs in wrk's main Lua state once per thread: give each thread its own number so
-- threads start at different places in the lists and use different client addresses.
function setup(thread)
  thread:set("tid", next_thread_id)
  next_thread_id = next_thread_id + 1
end

function read_lines(path)
  local out = {}
  for line in io.lines(path) do
    if #line > 0 then out[#out + 1] = line end
  end
  assert(#out > 0, "no lines in " .. path)
  return out
end

-- Sends, in turn, the request `build` makes of each line of the list file args[1]; each
-- thread starts at its own place in the list.
function cycle_through(build)
  local reqs, i = {}, 0
  function init(args)
    for n, line in ipairs(read_lines(args[1])) do
      reqs[n] = build(line)
    end
    i = (tid or 0) * 97
  end
  function request()
    i = i % #reqs + 1
    return reqs[i]
  end
end

-- One line that run.sh parses: totals, latency percentiles in microseconds, failures.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d usecs=%d p50_us=%d p99_us=%d non2xx=%d timeouts=%d sockerr=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.timeout, e.connect + e.read + e.write))
end
