-- POST /api/check/batch with 100 checks per request.
local token = os.getenv("TOKEN")
local users = tonumber(os.getenv("USERS") or "1000")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
request = function()
  local parts = {}
  for i = 1, 100 do
    parts[i] = string.format('{"user":%d,"privilege":"eprint/edit","item":{"dataset":"eprint","status":"buffer","owners":[%d]}}', math.random(1, users), math.random(1, users))
  end
  return wrk.format(nil, "/api/check/batch", nil, '{"checks":[' .. table.concat(parts, ",") .. ']}')
end
-- Report the first unexpected answer of each thread, so a broken run is not read as a fast one.
local reported = false
response = function(status, headers, body)
  if status ~= 200 and not reported then
    reported = true
    io.stderr:write(string.format("unexpected %d: %s\n", status, string.sub(body, 1, 300)))
  end
end
