"""Keycloak performance figures for docs/benchmarks-keycloak.md, in one run on one machine (scripts/keycloak-bench.sh,
inside scripts/netns: every request goes to loopback).

1. JNI cost of a cache-hit resolve (dev.cimd.keycloak.jni.ResolveCostHarness, against the loopback document host).
2. Authorization-endpoint throughput (request → login page) with wrk: a URL client served from the engine's cache
   vs a client registered in the realm database, on the same Keycloak, runs alternated; then the same against
   Keycloak's built-in CIMD feature with a warm (persisted) client.
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


def throughput(kc, realm, url_client, seconds, rounds):
    """Alternates URL client and database client runs; returns the per-run figures and the medians."""
    _, challenge = K.pkce_pair()
    urls = {"url_client": K.authorize_url(kc, realm, url_client, E.WEB_CB, challenge),
            "db_client": K.authorize_url(kc, realm, "db-client", E.WEB_CB, challenge)}
    for u in urls.values():  # warm: the URL client is fetched (and, built-in, persisted) before timing
        r = K.Browser().get(u)
        assert r.status == 200, f"{u}: {r.status}"
    wrk(urls["db_client"], 5)  # JIT warm-up
    wrk(urls["url_client"], 5)
    runs = {"url_client": [], "db_client": []}
    for _ in range(rounds):
        for name in ("url_client", "db_client"):
            runs[name].append(wrk(urls[name], seconds))
    med = {n: statistics.median(r["rps"] for r in v) for n, v in runs.items()}
    return {"runs": runs, "median_rps": med, "ratio_url_over_db": med["url_client"] / med["db_client"]}


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
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    host = DocHost(args.work, E.HOSTS).start()
    for cid in (E.WEB, BENCH, f"{E.APP}/clients/stampede-ours.json", f"{E.APP}/clients/stampede-builtin.json"):
        host.json(cid, E.doc(cid))
    results = {"machine": {"cpus": os.cpu_count(), "uname": " ".join(os.uname())}}

    config = json.dumps({"allow_loopback": True, "extra_ca_file": host.ca_file})
    out = subprocess.run(["java", "-Xshare:auto", "-cp", args.classpath, "dev.cimd.keycloak.jni.ResolveCostHarness",
                          config, BENCH, E.WEB_CB], capture_output=True, text=True, check=True).stdout
    results["jni_ns_per_call"] = {k: float(v) for k, v in re.findall(r"^(\w+) ([\d.]+)$", out, re.M)}
    print("jni:", json.dumps(results["jni_ns_per_call"]), flush=True)

    for name, builtin, port in (("ours", False, 8080), ("builtin", True, 8180)):
        kc = server(args, host, f"kc-{name}", builtin, port)
        print(f"{name}: started in {kc.start():.0f}s", flush=True)
        try:
            fetches_before = host.count(BENCH)
            t = throughput(kc, E.REALM, BENCH, args.seconds, args.rounds)
            t["document_fetches_during_benchmark"] = host.count(BENCH) - fetches_before
            results[f"throughput_{name}"] = t
            print(f"{name}: medians {t['median_rps']} ratio {t['ratio_url_over_db']:.3f}", flush=True)
            s = stampede(kc, E.REALM, host, f"{E.APP}/clients/stampede-{name}.json")
            results[f"stampede_{name}"] = s
            print(f"{name}: stampede {s}", flush=True)
        finally:
            kc.stop()
    ours = results["throughput_ours"]["median_rps"]["url_client"]
    builtin = results["throughput_builtin"]["median_rps"]["url_client"]
    results["ratio_ours_url_over_builtin_url"] = ours / builtin
    host.stop()
    with open(os.path.join(args.work, "bench.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
