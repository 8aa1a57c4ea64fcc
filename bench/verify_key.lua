-- POST /v1/verify/key, cycling through the seeded API keys (one per line in args[1]).
dofile("bench/common.lua")
local reqs, i = {}, 0

function init(args)
  for n, key in ipairs(read_lines(args[1])) do
    reqs[n] = wrk.format("POST", "/v1/verify/key", { ["Content-Type"] = "application/json" },
      '{"key":"' .. key .. '"}')
  end
  i = (tid or 0) * 97
end

function request()
  i = i % #reqs + 1
  return reqs[i]
end
