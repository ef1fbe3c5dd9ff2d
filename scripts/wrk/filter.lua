-- POST /api/filter for a random user among N and a privilege of the mix (dataset eprint).
local token = os.getenv("TOKEN")
local users = tonumber(os.getenv("USERS") or "1000")
local privs = { "eprint/edit", "eprint/view", "eprint/move_archive", "eprint/archive/edit", "eprint/remove" }
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
request = function()
  local body = string.format('{"user":%d,"privilege":"%s"}', math.random(1, users), privs[math.random(1, #privs)])
  return wrk.format(nil, "/api/filter", nil, body)
end
local reported = false
response = function(status, headers, body)
  if status ~= 200 and not reported then
    reported = true
    io.stderr:write(string.format("unexpected %d: %s\n", status, string.sub(body, 1, 300)))
  end
end
