-- The code flow's two server steps, alternating on each connection: GET /oauth/authorize
-- with a session cookie (a first-party client: answers 303 with a fresh code), then POST
-- /oauth/token exchanging that code (client_secret_basic, PKCE S256). Every second request
-- is a code exchange; the summary counts both.
local session = os.getenv("SESSION")
local client_id = os.getenv("CLIENT_ID")
local basic = os.getenv("BASIC")
local cb = "http%3A%2F%2F127.0.0.1%3A9%2Fcb"
local challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
local verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
local code = nil
local reported = false
request = function()
  if code == nil then
    local path = "/oauth/authorize?response_type=code&client_id=" .. client_id ..
      "&redirect_uri=" .. cb .. "&scope=openid%20email&state=s&nonce=n&code_challenge=" ..
      challenge .. "&code_challenge_method=S256"
    return wrk.format("GET", path, { ["Cookie"] = "gatehouse_session=" .. session }, nil)
  end
  local body = "grant_type=authorization_code&code=" .. code .. "&redirect_uri=" .. cb ..
    "&code_verifier=" .. verifier
  code = nil
  return wrk.format("POST", "/oauth/token", {
    ["Authorization"] = "Basic " .. basic,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end
response = function(status, headers, body)
  local location = headers["Location"] or headers["location"]
  if status == 303 and location then
    code = string.match(location, "[?&]code=([^&]+)")
  elseif status ~= 200 and not reported then
    reported = true
    io.stderr:write(string.format("unexpected %d: %s\n", status, string.sub(body, 1, 300)))
  end
end
