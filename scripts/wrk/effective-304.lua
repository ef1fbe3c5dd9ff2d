-- GET /api/users/{id}/effective with the If-None-Match a platform caching the answer sends:
-- ETAGS_FILE holds "id etag" lines (fetched by bench-platform.sh); every answer must be 304.
local token = os.getenv("TOKEN")
local ids, tags = {}, {}
for line in io.lines(os.getenv("ETAGS_FILE")) do
  local id, tag = line:match("^(%d+) (.+)$")
  if id then ids[#ids + 1] = id; tags[#tags + 1] = tag end
end
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. token
request = function()
  local i = math.random(1, #ids)
  return wrk.format(nil, "/api/users/" .. ids[i] .. "/effective", { ["If-None-Match"] = tags[i], ["Authorization"] = "Bearer " .. token })
end
local reported = false
response = function(status, headers, body)
  if status ~= 304 and not reported then
    reported = true
    io.stderr:write(string.format("unexpected %d: %s\n", status, string.sub(body, 1, 300)))
  end
end
