-- GET /healthz (the baseline every ratio is taken against).
dofile("bench/common.lua")
wrk.method = "GET"
wrk.path = "/healthz"
