-- POST /v1/verify/session, cycling through the seeded session tokens (args[1]).
dofile("bench/common.lua")
cycle_through(function(token)
  return wrk.format("POST", "/v1/verify/session", { ["Content-Type"] = "application/json" },
    '{"token":"' .. token .. '"}')
end)
