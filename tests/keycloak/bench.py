"""Keycloak performance figures for docs/benchmarks-keycloak.md, in one run on one machine (scripts/keycloak-bench.sh,
inside scripts/netns: every request goes to loopback).

1. JNI cost of a cache-hit resolve (dev.cimd.keycloak.jni.ResolveCostHarness, against the loopback document host).
2. Authorization-endpoint throughput (request → login page) with wrk: a URL client served from the engine's cache
   and a client registered in the realm database, on a Keycloak with the extension and on one with the built-in
   CIMD feature (its URL client warm: fetched and persisted), both running, measured in round-robin.
3. 200 concurrent first requests for one uncached client_id: fetches seen by the document host, on both.

    python3 tests/keycloak/bench.py --dist DIR --jar JAR --work DIR --classpath CP [--seconds N]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e as E  # noqa: E402
import kc as K  # noqa: E402
from dochost import DocHost  # noqa: E402

BENCH = f"{E.APP}/clients/bench.json"


def wrk(url, seconds, threads=2, connections=32):
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    p50 = re.search(r"50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    return {"rps": rps, "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "p50": p50.group(1) if p50 else "?", "p99": p99.group(1) if p99 else "?"}


def interleaved_throughput(servers, seconds, rounds):
    """wrk against every (server, client) pair in round-robin, `rounds` times, so that the machine's load drifts
    over all of them alike; medians per pair."""
    _, challenge = K.pkce_pair()
    targets = {}
    for name, kc in servers.items():
        targets[f"{name}/url_client"] = K.authorize_url(kc, E.REALM, BENCH, E.WEB_CB, challenge)
        targets[f"{name}/db_client"] = K.authorize_url(kc, E.REALM, "db-client", E.WEB_CB, challenge)
        targets[f"{name}/db_client_url_length"] = K.authorize_url(kc, E.REALM, E.DB_URL_SHAPED, E.WEB_CB, challenge)
    for u in targets.values():  # warm: the URL client is fetched (and, built-in, persisted) before timing
        r = K.Browser().get(u)
        assert r.status == 200, f"{u}: {r.status}"
    for u in targets.values():  # JIT warm-up
        wrk(u, 5)
    runs = {t: [] for t in targets}
    for _ in range(rounds):
        for t, u in targets.items():
            runs[t].append(wrk(u, seconds))
    med = {t: statistics.median(r["rps"] for r in v) for t, v in runs.items()}
    return runs, med


def stampede(kc, realm, host, client_id, n=200):
    _, challenge = K.pkce_pair()
    url = K.authorize_url(kc, realm, client_id, E.WEB_CB, challenge)
    statuses, lock, barrier = [], threading.Lock(), threading.Barrier(n)

    def one():
        b = K.Browser()
        barrier.wait()
        r = b.get(url, timeout=120)
        with lock:
            statuses.append(r.status)
    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"requests": n, "login_pages": statuses.count(200), "errors": n - statuses.count(200),
            "fetches": host.count(client_id)}


def server(args, host, name, builtin, port):
    home = K.install(args.dist, os.path.join(args.work, name))
    os.makedirs(os.path.join(home, "data", "import"), exist_ok=True)
    if not builtin:
        os.makedirs(os.path.join(home, "providers"), exist_ok=True)
        shutil.copy(args.jar, os.path.join(home, "providers", "cimd-keycloak.jar"))
    with open(os.path.join(home, "data", "import", "cimd.json"), "w") as f:
        json.dump(E.realm_json(E.REALM, host.ca_file, ["none"], builtin), f)
    return K.Keycloak(home, port, os.path.join(args.work, f"{name}.log"), features="cimd" if builtin else None,
                      extra_args=[f"--truststore-paths={host.ca_file}"] if builtin else [])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dist", required=True)
    ap.add_argument("--jar", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--classpath", required=True)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only-ours", action="store_true", help="skip the built-in feature's server")
    ap.add_argument("--skip-jni", action="store_true", help="skip the JNI cost harness")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    host = DocHost(args.work, E.HOSTS).start()
    for cid in (E.WEB, BENCH, f"{E.APP}/clients/stampede-ours.json", f"{E.APP}/clients/stampede-builtin.json"):
        host.json(cid, E.doc(cid))
    results = {"machine": {"cpus": os.cpu_count(), "uname": " ".join(os.uname())}}

    config = json.dumps({"allow_loopback": True, "extra_ca_file": host.ca_file})
    out = "" if args.skip_jni else subprocess.run(["java", "-Xshare:auto", "-cp", args.classpath, "dev.cimd.keycloak.jni.ResolveCostHarness",
                          config, BENCH, E.WEB_CB], capture_output=True, text=True, check=True).stdout
    results["jni_ns_per_call"] = {k: float(v) for k, v in re.findall(r"^(\w+) ([\d.]+)$", out, re.M)}
    print("jni:", json.dumps(results["jni_ns_per_call"]), flush=True)

    servers = {}
    try:
        kinds = (("ours", False, 8080),) if args.only_ours else (("ours", False, 8080), ("builtin", True, 8180))
        for name, builtin, port in kinds:
            servers[name] = server(args, host, f"kc-{name}", builtin, port)
            print(f"{name}: started in {servers[name].start():.0f}s", flush=True)
        fetches_before = host.count(BENCH)
        runs, med = interleaved_throughput(servers, args.seconds, args.rounds)
        results["throughput_runs"] = runs
        results["throughput_median_rps"] = med
        results["bench_document_fetches_during_timing"] = host.count(BENCH) - fetches_before
        results["ratio_ours_url_over_ours_db"] = med["ours/url_client"] / med["ours/db_client"]
        results["ratio_ours_url_over_ours_db_url_length"] = (med["ours/url_client"]
                                                             / med["ours/db_client_url_length"])
        if not args.only_ours:
            results["ratio_builtin_url_over_builtin_db"] = med["builtin/url_client"] / med["builtin/db_client"]
            results["ratio_ours_url_over_builtin_url"] = med["ours/url_client"] / med["builtin/url_client"]
        print("medians:", json.dumps(med), flush=True)
        for name, kc in servers.items():
            s = stampede(kc, E.REALM, host, f"{E.APP}/clients/stampede-{name}.json")
            results[f"stampede_{name}"] = s
            print(f"{name}: stampede {s}", flush=True)
    finally:
        for kc in servers.values():
            kc.stop()
    host.stop()
    with open(os.path.join(args.work, "bench.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
