-- POST /api/check for a random user among N, asking a mix of privileges on a buffer item.
local token = os.getenv("TOKEN")
local users = tonumber(os.getenv("USERS") or "1000")
local privs = { "eprint/edit", "eprint/view", "eprint/move_archive", "config/edit", "user/view" }
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
request = function()
  local u = math.random(1, users)
  local p = privs[math.random(1, #privs)]
  local body = string.format('{"user":%d,"privilege":"%s","item":{"dataset":"eprint","status":"buffer","owners":[%d],"fields":{"divisions":["div%d"]}}}', u, p, math.random(1, users), math.random(0, 19))
  return wrk.format(nil, "/api/check", nil, body)
end
-- Report the first unexpected answer of each thread, so a broken run is not read as a fast one.
local reported = false
response = function(status, headers, body)
  if status ~= 200 and not reported then
    reported = true
    io.stderr:write(string.format("unexpected %d: %s\n", status, string.sub(body, 1, 300)))
  end
end
