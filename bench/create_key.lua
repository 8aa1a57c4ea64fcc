-- POST /v1/keys (args: a session token): one write transaction and no argon2, to tell the
-- cost of a committed write apart from the hash in the time of one login.
dofile("bench/common.lua")
local req

function init(args)
  req = wrk.format("POST", "/v1/keys",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[1] },
    '{"name":"bench write"}')
end

function request()
  return req
end
