-- GET /api/users?q=<one user's number> as an admin: search latency over the whole table.
local token = os.getenv("ADMIN_TOKEN")
local users = tonumber(os.getenv("USERS") or "1000")
wrk.headers["Authorization"] = "Bearer " .. token
request = function()
  return wrk.format("GET", string.format("/api/users?q=user%d%%40&limit=10", math.random(1, users)))
end
local reported = false
response = function(status, headers, body)
  if status ~= 200 and not reported then
    reported = true
    io.stderr:write(string.format("unexpected %d: %s\n", status, string.sub(body, 1, 300)))
  end
end
