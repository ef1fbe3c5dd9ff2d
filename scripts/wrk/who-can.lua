-- POST /api/who-can without expand: a mix of privileges on a buffer item of a random owner
-- and division (the answer includes the users whose own entries change it).
local token = os.getenv("TOKEN")
local users = tonumber(os.getenv("USERS") or "1000")
local privs = { "eprint/edit", "eprint/view", "eprint/move_archive", "config/edit", "user/view" }
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
request = function()
  local p = privs[math.random(1, #privs)]
  local body = string.format('{"privilege":"%s","item":{"dataset":"eprint","status":"buffer","owners":[%d],"fields":{"divisions":["div%d"]}}}', p, math.random(1, users), math.random(0, 19))
  return wrk.format(nil, "/api/who-can", nil, body)
end
local reported = false
response = function(status, headers, body)
  if status ~= 200 and not reported then
    reported = true
    io.stderr:write(string.format("unexpected %d: %s\n", status, string.sub(body, 1, 300)))
  end
end
