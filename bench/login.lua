-- POST /v1/auth/login with the correct password (args: email, password). The server runs
-- with --trust-proxy and each request names a different client address in
-- X-Forwarded-For, so the per-IP login limit (burst 30) does not turn the run into 429s.
dofile("bench/common.lua")
local body, n = nil, 0

function init(args)
  body = '{"email":"' .. args[1] .. '","password":"' .. args[2] .. '"}'
end

function request()
  n = n + 1
  local ip = string.format("10.%d.%d.%d", tid or 0, math.floor(n / 250) % 250, n % 250 + 1)
  return wrk.format("POST", "/v1/auth/login",
    { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = ip }, body)
end
