"""How many authentication sessions does Keycloak keep alive under the bench's load, and for how long?
(docs/benchmarks-keycloak.md, "Run M"). The bench server "ours" (tests/keycloak/bench.py, 60 s login lifespans),
without JIT warm-up: `--load` seconds of 30 s wrk runs alternating `db-client` and the URL client, the live
authentication sessions after each (a class histogram, which forces a full collection), then every 20 s for
`--watch` seconds of idle. `--reaper-ms` sets Infinispan's expiration reaper interval (the bench uses 5 000;
Infinispan's default is 60 000).

    scripts/keycloak-netns .cache/sessions python3 tests/keycloak/sessions.py --dist "$(scripts/keycloak-dist.sh)" \
        --jar "$PWD/java-spi/target/cimd-keycloak-0.1.0.jar" --work "$PWD/.cache/sessions" [--reaper-ms 60000]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B  # noqa: E402
import kc as K  # noqa: E402

WATCHED = ("RootAuthenticationSessionEntity", "AuthenticationSessionEntity", "MortalCacheEntry")


def sessions(kc):
    out = subprocess.run(["jcmd", B.jvm_pids(kc)[0], "GC.class_histogram"], capture_output=True, text=True,
                         check=True).stdout
    found = {m.group(2).rsplit(".", 1)[-1]: int(m.group(1))
             for m in re.finditer(r"^\s*\d+:\s+(\d+)\s+\d+\s+(\S+)", out, re.M)
             if m.group(2).rsplit(".", 1)[-1] in WATCHED}
    total = re.search(r"^Total\s+\d+\s+(\d+)", out, re.M)
    return {**{c: found.get(c, 0) for c in WATCHED}, "live_mib": round(int(total.group(1)) / 2**20)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dist", required=True)
    ap.add_argument("--jar", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--load", type=int, default=300)
    ap.add_argument("--watch", type=int, default=120)
    ap.add_argument("--reaper-ms", type=int, default=5000)
    args = ap.parse_args()
    B.CACHE_CONFIG = B.CACHE_CONFIG.replace('interval="5000"', f'interval="{args.reaper_ms}"')
    # only the first fetch of each URL client: the point is the sessions, not a settled JIT
    B.warm_up = lambda targets, _seconds: [K.Browser().get(u) for _, u in targets.values()]
    rows = []
    with B.ours_alone(args, 0) as (kc, targets):
        started = time.time()
        for i in range(max(1, args.load // 30)):
            name = ("ours/db_client", "ours/url_client")[i % 2]
            rps = B.wrk(targets[name][1], 30)["rps"]
            rows.append({"t": round(time.time() - started), "target": name, "rps": round(rps), **sessions(kc)})
            print(json.dumps(rows[-1]), flush=True)
        idle = time.time()
        while time.time() - idle < args.watch:
            time.sleep(20)
            rows.append({"t": round(time.time() - started), "target": None, **sessions(kc)})
            print(json.dumps(rows[-1]), flush=True)
    for r in rows:
        if r["target"]:
            r["seconds_of_requests"] = round(r["RootAuthenticationSessionEntity"] / max(1, r["rps"]))
    with open(os.path.join(args.work, "sessions.json"), "w") as f:
        json.dump({"reaper_ms": args.reaper_ms, "rows": rows}, f, indent=1)
    print("| t (s) | target | requests/s | live root sessions | seconds of requests | live heap MiB |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['t']} | {r['target'] or 'idle'} | {r.get('rps', '')} | {r['RootAuthenticationSessionEntity']} "
              f"| {r.get('seconds_of_requests', '')} | {r['live_mib']} |")


if __name__ == "__main__":
    main()
