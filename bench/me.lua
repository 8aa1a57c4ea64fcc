-- GET /v1/me with `Authorization: Bearer`, cycling through the seeded session tokens (args[1]).
dofile("bench/common.lua")
local reqs, i = {}, 0

function init(args)
  for n, token in ipairs(read_lines(args[1])) do
    reqs[n] = wrk.format("GET", "/v1/me", { ["Authorization"] = "Bearer " .. token })
  end
  i = (tid or 0) * 97
end

function request()
  i = i % #reqs + 1
  return reqs[i]
end
