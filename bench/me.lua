-- GET /v1/me with `Authorization: Bearer`, cycling through the seeded session tokens (args[1]).
dofile("bench/common.lua")
cycle_through(function(token)
  return wrk.format("GET", "/v1/me", { ["Authorization"] = "Bearer " .. token })
end)
