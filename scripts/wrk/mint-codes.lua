-- The authorization step alone, to mint codes for scripts/wrk/token-only.lua: GET
-- /oauth/authorize with a session cookie (a first-party client: 303 with a fresh code).
-- Each wrk thread appends its codes to $CODES_DIR/codes-<thread>.txt, one a line.
local session = os.getenv("SESSION")
local client_id = os.getenv("CLIENT_ID")
local dir = os.getenv("CODES_DIR")
local cb = "http%3A%2F%2F127.0.0.1%3A9%2Fcb"
local challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
local counter = 0
local out = nil
local reported = false

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  out = io.open(dir .. "/codes-" .. id .. ".txt", "w")
  out:setvbuf("line")
end

local path = "/oauth/authorize?response_type=code&client_id=" .. client_id ..
  "&redirect_uri=" .. cb .. "&scope=openid%20email&state=s&nonce=n&code_challenge=" ..
  challenge .. "&code_challenge_method=S256"

request = function()
  return wrk.format("GET", path, { ["Cookie"] = "gatehouse_session=" .. session }, nil)
end

response = function(status, headers, body)
  local location = headers["Location"] or headers["location"]
  local code = location and string.match(location, "[?&]code=([^&]+)")
  if status == 303 and code then
    out:write(code, "\n")
  elseif not reported then
    reported = true
    io.stderr:write(string.format("unexpected %d: %s\n", status, string.sub(body, 1, 300)))
  end
end
