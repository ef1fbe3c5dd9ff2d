-- POST /api/login with wrong passwords for random accounts (a password-guessing flood).
local users = tonumber(os.getenv("USERS") or "1000")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local body = string.format('{"email":"user%d@bench.example.org","password":"wrong-%d"}', math.random(1, users), math.random(1, 1000000))
  return wrk.format(nil, "/api/login", nil, body)
end
