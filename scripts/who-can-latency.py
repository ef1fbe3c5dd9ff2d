#!/usr/bin/env python3
"""Times POST /api/who-can one request at a time from the client side (issue 13's p99 target).

wrk's latency histogram disagreed with its own request count on this machine (a p99 of
105 ms over 15,583 requests in 5 s on one connection, which would need more than 16 s), so
this measures each request with a monotonic clock and prints p50, p99, max and the sum of
latencies per round. Usage: who-can-latency.py HOST PORT [SECONDS] [ROUNDS]; TOKEN and USERS
from the environment.
"""
import http.client
import json
import os
import random
import sys
import time

host, port = sys.argv[1], int(sys.argv[2])
secs = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
token = os.environ["TOKEN"]
users = int(os.environ.get("USERS", "1000"))
privs = ["eprint/edit", "eprint/view", "eprint/move_archive", "config/edit", "user/view"]
conn = http.client.HTTPConnection(host, port)
for rnd in range(1, rounds + 1):
    lat = []
    end = time.monotonic() + secs
    while time.monotonic() < end:
        body = json.dumps({
            "privilege": random.choice(privs),
            "item": {"dataset": "eprint", "status": "buffer",
                     "owners": [random.randint(1, users)],
                     "fields": {"divisions": ["div%d" % random.randint(0, 19)]}},
        })
        t0 = time.perf_counter()
        conn.request("POST", "/api/who-can", body,
                     {"Content-Type": "application/json", "Authorization": "Bearer " + token})
        resp = conn.getresponse()
        resp.read()
        lat.append(time.perf_counter() - t0)
        if resp.status != 200:
            sys.exit(f"unexpected {resp.status}")
    lat.sort()
    n = len(lat)
    print(f"who-can, 1 conn, client-timed, round {rnd}: {n} requests, p50 {lat[n // 2] * 1e3:.2f} ms, "
          f"p99 {lat[int(n * 0.99)] * 1e3:.2f} ms, max {lat[-1] * 1e3:.1f} ms, sum {sum(lat):.2f} s")
