-- The token endpoint alone: POST /oauth/token exchanging codes minted beforehand by
-- scripts/wrk/mint-codes.lua (client_secret_basic, PKCE S256), each once. A thread that
-- runs out of codes sends an unknown one (answered 400, counted as non-2xx): the run
-- was too long for the codes minted, and its figure is not an exchange rate.
local client_id = os.getenv("CLIENT_ID")
local basic = os.getenv("BASIC")
local dir = os.getenv("CODES_DIR")
local cb = "http%3A%2F%2F127.0.0.1%3A9%2Fcb"
local verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
local counter = 0
local codes = {}
local next_code = 1
local reported = false

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  for line in io.lines(dir .. "/codes-" .. id .. ".txt") do
    codes[#codes + 1] = line
  end
end

request = function()
  local code = codes[next_code] or "exhausted"
  next_code = next_code + 1
  local body = "grant_type=authorization_code&code=" .. code .. "&redirect_uri=" .. cb ..
    "&code_verifier=" .. verifier
  return wrk.format("POST", "/oauth/token", {
    ["Authorization"] = "Basic " .. basic,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end

response = function(status, headers, body)
  if status ~= 200 and not reported then
    reported = true
    io.stderr:write(string.format("unexpected %d: %s\n", status, string.sub(body, 1, 300)))
  end
end
