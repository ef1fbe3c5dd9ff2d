#!/usr/bin/env bash
# The log in throttle under attack, measured on a real `gatehouse serve` (docs/security.md).
#
#   scripts/bench-throttle.sh [SCALE]
#
# An hour of attack is run in 3600/SCALE seconds (SCALE 1000 by default: 3.6 s) by dividing
# the account bucket's refill time by SCALE through `throttle.account_refill_secs`; nothing
# else changes. During that "hour":
#   - an attacker guesses the victim's password as fast as the server answers, from a new
#     address for every guess (X-Forwarded-For through a trusted proxy, as a botnet would);
#   - the victim logs in once a "minute" from their usual browser (known-device cookie),
#     and once a "minute" from a new device at their usual address.
# It prints the guesses the attacker got verified (the model says at most 20 in the first
# hour: a burst of 10, then one every 6 minutes) and the owner's log ins that succeeded.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE="${1:-1000}"
cargo build --release --quiet -p gatehouse
BIN="$PWD/target/release/gatehouse"
WORK="$(mktemp -d)"
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
cd "$WORK"
mkdir app_data
REFILL=$(python3 -c "print(360 / $SCALE)")
cat > gatehouse.toml <<EOF
[server]
trusted_proxies = ["127.0.0.1"]
[throttle]
account_refill_secs = $REFILL
EOF
"$BIN" users create victim@example.org --password correct-horse-1 --active --confirm >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
GATEHOUSE_LOG=error "$BIN" serve --listen "127.0.0.1:$PORT" 2>/dev/null &
SERVER=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

python3 - "$PORT" "$SCALE" <<'PY'
import http.client, json, sys, threading, time

port, scale = int(sys.argv[1]), float(sys.argv[2])
hour = 3600 / scale
minute = 60 / scale

def login(password, address, cookie=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "X-Forwarded-For": address}
    if cookie:
        headers["Cookie"] = cookie
    body = json.dumps({"email": "victim@example.org", "password": password})
    c.request("POST", "/api/login", body, headers)
    r = c.getresponse()
    r.read()
    device = [v.split(";")[0] for k, v in r.getheaders()
              if k.lower() == "set-cookie" and v.startswith("gatehouse_device=")]
    c.close()
    return r.status, (device[0] if device else None)

# The owner's browser logged in once before the attack.
status, device = login("correct-horse-1", "192.0.2.7")
assert status == 200 and device, status

stop = time.monotonic() + hour
verified = 0
refused = 0
def attacker():
    global verified, refused
    n = 0
    while time.monotonic() < stop:
        n += 1
        status, _ = login(f"guess-{n:06d}", f"198.51.{(n >> 8) & 255}.{n & 255}")
        if status == 429:
            refused += 1
        else:
            verified += 1

owner = {"device_ok": 0, "device_refused": 0, "address_ok": 0, "address_refused": 0}
def victim():
    while time.monotonic() < stop:
        s, _ = login("correct-horse-1", "203.0.113.5", device)
        owner["device_ok" if s == 200 else "device_refused"] += 1
        s, _ = login("correct-horse-1", "192.0.2.7")
        owner["address_ok" if s == 200 else "address_refused"] += 1
        time.sleep(minute)

threads = [threading.Thread(target=attacker) for _ in range(4)] + [threading.Thread(target=victim)]
for t in threads: t.start()
for t in threads: t.join()
print(f"one hour of attack (run in {hour:.1f} s, refill scaled by {scale:g}):")
print(f"  attacker: {verified} guesses verified, {refused} refused with 429 (model: at most 20)")
print(f"  owner, known device from a new address: {owner['device_ok']} log ins, {owner['device_refused']} refused")
print(f"  owner, new device from a known address: {owner['address_ok']} log ins, {owner['address_refused']} refused")
PY
