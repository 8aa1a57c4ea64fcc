-- POST /v1/verify/key, cycling through the seeded API keys (one per line in args[1]).
dofile("bench/common.lua")
cycle_through(function(key)
  return wrk.format("POST", "/v1/verify/key", { ["Content-Type"] = "application/json" }, '{"key":"' .. key .. '"}')
end)
