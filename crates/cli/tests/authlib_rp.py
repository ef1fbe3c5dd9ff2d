"""A relying party built with Python's authlib against a running `gatehouse serve`.

Run by crates/cli/tests/authlib_e2e.rs: argv = base URL, client id, client secret, email,
password. Discovery, the code flow with PKCE through the log in page, the ID token checked
against the JWKS (signature, iss, aud, nonce, at_hash), userinfo, refresh rotation and
reuse detection. Prints `ok` and exits 0, or raises.
"""

import sys
from urllib.parse import parse_qs, urlparse

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey
from authlib.oidc.core import CodeIDToken
from authlib.jose import jwt

base, client_id, secret, email, password = sys.argv[1:6]
CB = "http://127.0.0.1:9/cb"

meta = requests.get(base + "/.well-known/openid-configuration", timeout=10).json()
assert meta["issuer"] == base, meta["issuer"]
jwks = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())

rp = OAuth2Session(
    client_id,
    secret,
    scope="openid email profile roles",
    redirect_uri=CB,
    code_challenge_method="S256",
    token_endpoint_auth_method="client_secret_basic",
)
verifier = generate_token(48)
nonce = generate_token(20)
url, state = rp.create_authorization_url(
    meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
)

# The browser: follow redirects, log in on the log in page, stop at the client's URI.
browser = requests.Session()
target = url
for _ in range(8):
    r = browser.get(target, allow_redirects=False, timeout=10)
    if r.status_code == 200 and "/oauth/login" in target:
        csrf = browser.cookies.get("gatehouse_oauth_csrf")
        return_to = parse_qs(urlparse(target).query)["return_to"][0]
        r = browser.post(
            base + "/oauth/login",
            data={"csrf": csrf, "return_to": return_to, "login": email, "password": password},
            allow_redirects=False,
            timeout=10,
        )
        assert r.status_code == 303, r.text
    assert r.status_code == 303, (r.status_code, r.text)
    location = r.headers["location"]
    if location.startswith(CB):
        break
    target = location if location.startswith("http") else base + location
else:
    raise AssertionError("too many redirects")

query = parse_qs(urlparse(location).query)
assert query["state"] == [state]
assert query["iss"] == [base]
token = rp.fetch_token(
    meta["token_endpoint"], authorization_response=location, code_verifier=verifier
)
claims = jwt.decode(
    token["id_token"],
    jwks,
    claims_cls=CodeIDToken,
    claims_options={"iss": {"value": base}, "aud": {"value": client_id}},
    claims_params={"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]},
)
claims.validate()  # exp, iat, nonce, at_hash
assert claims["email"] == email, claims

info = rp.get(meta["userinfo_endpoint"], timeout=10).json()
assert info["sub"] == claims["sub"] and info["email"] == email, info

old_refresh = token["refresh_token"]
new = rp.refresh_token(meta["token_endpoint"], refresh_token=old_refresh)
assert new["refresh_token"] != old_refresh
reuse = requests.post(
    meta["token_endpoint"],
    data={"grant_type": "refresh_token", "refresh_token": old_refresh},
    auth=(client_id, secret),
    timeout=10,
)
assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant", reuse.text
after = requests.post(
    meta["token_endpoint"],
    data={"grant_type": "refresh_token", "refresh_token": new["refresh_token"]},
    auth=(client_id, secret),
    timeout=10,
)
assert after.json()["error"] == "invalid_grant", after.text
print("ok")
