-- GET of one operator route (args: session token, path): the JSON API with
-- `Authorization: Bearer`, a page (/admin/...) with the same session as its cookie.
dofile("bench/common.lua")
local req

function init(args)
  local headers = { ["Authorization"] = "Bearer " .. args[1] }
  if string.sub(args[2], 1, 7) == "/admin/" then
    headers = { ["Cookie"] = "ks_admin=" .. args[1] }
  end
  req = wrk.format("GET", args[2], headers)
end

function request()
  return req
end
