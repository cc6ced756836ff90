"""Keycloak performance figures for docs/benchmarks-keycloak.md, in one run on one machine (scripts/keycloak-bench.sh,
inside scripts/netns: every request goes to loopback).

1. JNI cost of a cache-hit resolve (dev.cimd.keycloak.jni.ResolveCostHarness, against the loopback document host).
2. Authorization-endpoint throughput (request → login page) with wrk: a URL client served from the engine's cache
   and a client registered in the realm database, on a Keycloak with the extension and on one with the built-in
   CIMD feature (its URL client warm: fetched and persisted), both running: direct comparisons in A B B A blocks
   of short adjacent runs (the figures against the targets), then every target in rotating round-robin.
3. 200 concurrent first requests for one uncached client_id: fetches seen by the document host, on both.

    python3 benches/keycloak/bench.py --dist DIR --jar JAR --work DIR --classpath CP [--seconds N]
"""
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The Keycloak harness (start, stop, login, the document host) is the end-to-end test's: tests/keycloak.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "keycloak"))
import e2e as E  # noqa: E402
import kc as K  # noqa: E402
from dochost import DocHost  # noqa: E402

BENCH = f"{E.APP}/clients/bench.json"
# The document host's key for BENCH (host, path), for its per-request User-Agent log.
BENCH_KEY = (urllib.parse.urlsplit(BENCH).hostname, urllib.parse.urlsplit(BENCH).path)


def wrk(url, seconds, threads=2, connections=32):
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    p50 = re.search(r"50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    return {"rps": rps, "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "p50": p50.group(1) if p50 else "?", "p99": p99.group(1) if p99 else "?"}


def jvm_pids(kc):
    return subprocess.run(["pgrep", "-g", str(kc.proc.pid), "java"], capture_output=True, text=True).stdout.split()


def proc_cpu(stat_path):
    """(name, CPU seconds: user + system) of a process or thread from its /proc stat file."""
    stat = open(stat_path).read()
    fields = stat.rsplit(")", 1)[1].split()
    return stat[stat.index("(") + 1:stat.rindex(")")], (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(kc):
    """CPU time (user + system) used so far by the server's JVM, from /proc."""
    return sum(proc_cpu(f"/proc/{pid}/stat")[1] for pid in jvm_pids(kc))


def thread_cpu_seconds(kc):
    """CPU time (user + system) of every live thread of the server's JVM by thread id: (group, seconds), the group
    being the thread's name without its digits ("GC Thread#", "C2 CompilerThread", "executor-thread-")."""
    threads = {}
    for pid in jvm_pids(kc):
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                name, seconds = proc_cpu(f"/proc/{pid}/task/{tid}/stat")
            except OSError:
                continue  # the thread ended meanwhile
            threads[tid] = ("".join(c for c in name if not c.isdigit()).strip(), seconds)
    return threads


def thread_cpu_delta(before, after):
    """Seconds of CPU by thread group between two thread_cpu_seconds readings (threads that ended in between are
    missing: the process total minus the sum of these is their share)."""
    groups = {}
    for tid, (group, seconds) in after.items():
        groups[group] = groups.get(group, 0.0) + seconds - (before[tid][1] if tid in before else 0.0)
    return groups


def bench_targets(servers):
    """The authorization requests timed on every server: (server, url) by "server/client"."""
    _, challenge = K.pkce_pair()
    targets = {}
    for name, kc in servers.items():
        if name != "plain":
            targets[f"{name}/url_client"] = (kc, K.authorize_url(kc, E.REALM, BENCH, E.WEB_CB, challenge))
        targets[f"{name}/db_client"] = (kc, K.authorize_url(kc, E.REALM, "db-client", E.WEB_CB, challenge))
        targets[f"{name}/db_client_url_length"] = (kc, K.authorize_url(kc, E.REALM, E.DB_URL_SHAPED, E.WEB_CB,
                                                                      challenge))
    return targets


def jit_seconds(threads):
    """CPU seconds of the JIT compiler threads in a thread_cpu_seconds reading."""
    return sum(t for group, t in threads.values() if "CompilerThre" in group)


def warm_up(targets, seconds, jit_limit=2.0, max_seconds=1800):
    """The URL clients are fetched (and, built-in, persisted) first; then JIT warm-up. Two passes over every target
    of `seconds` each, then further passes until, on every server, the JIT compiler threads spent at most
    `jit_limit` µs of CPU per request served in the last pass (or `max_seconds` of passes have run). A fixed warm-up
    was not enough: on 4 December, after two 30 s passes, the compiler threads still took 60–90 µs per login page
    (6 % of the server's CPU) and CPU per request kept falling by a third over the next six minutes, which weighed on
    whichever target ran first. Returns what the warm-up did: passes, seconds, and the last pass's JIT µs per
    request by server."""
    for _, u in targets.values():
        r = K.Browser().get(u)
        assert r.status == 200, f"{u}: {r.status}"
    servers = {name.split("/")[0]: kc for name, (kc, _) in targets.items()}
    passes, spent, jit = 0, 0.0, {}
    while True:
        before = {s: jit_seconds(thread_cpu_seconds(kc)) for s, kc in servers.items()}
        served = dict.fromkeys(servers, 0.0)
        for name, (_, u) in targets.items():
            served[name.split("/")[0]] += wrk(u, seconds)["rps"] * seconds
        passes, spent = passes + 1, spent + seconds * len(targets)
        jit = {s: round((jit_seconds(thread_cpu_seconds(kc)) - before[s]) * 1e6 / max(1.0, served[s]), 1)
               for s, kc in servers.items()}
        print(f"warm-up pass {passes}: JIT µs per request {json.dumps(jit)}", flush=True)
        if passes >= 2 and (max(jit.values()) <= jit_limit or spent >= max_seconds):
            return {"passes": passes, "seconds": spent, "jit_us_per_request_last_pass": jit}


def timed_run(kc, url, seconds, settle):
    """One wrk run after a short untimed one on the same target (`settle` seconds, so that the previous target's
    tail of work has drained), with the server's CPU time per request."""
    wrk(url, settle)
    cpu_before = server_cpu_seconds(kc)
    run = wrk(url, seconds)
    run["cpu_ms_per_request"] = (server_cpu_seconds(kc) - cpu_before) * 1000 / max(1.0, run["rps"] * seconds)
    return run


def interleaved_throughput(targets, seconds, rounds, settle=2):
    """wrk against every (server, client) pair, `rounds` times, so that the machine's load drifts over all of them
    alike. The order rotates from round to round, so that no target is always the first one after a switch of
    server, when the other JVM is still finishing its work. Medians per pair."""
    names = list(targets)
    runs = {t: [] for t in targets}
    for r in range(rounds):
        shift = r % len(names)
        for t in names[shift:] + names[:shift]:
            run = timed_run(*targets[t], seconds, settle)
            run["round"] = r
            runs[t].append(run)
    med = {t: statistics.median(r["rps"] for r in v) for t, v in runs.items()}
    return runs, med


def abba_block(targets, a, b, seconds, settle=1, flip=False):
    """One block of a direct comparison of two targets: four short adjacent runs in the order A B B A (or, with
    `flip`, B A A B), so that a load that drifts linearly within the block weighs on both alike. Its ratios:
    (A1 + A2) / (B1 + B2) for throughput, and for CPU per request B over A (above 1 means "A is cheaper" there
    too), with the four runs. In A B B A the middle pair is two runs of B in a row and both runs of A follow a
    switch of target; B A A B gives A that position, so alternating the two cancels what a switch costs."""
    order = (b, a, a, b) if flip else (a, b, b, a)
    runs = [(t, timed_run(*targets[t], seconds, settle)) for t in order]
    ra = [r for t, r in runs if t == a]
    rb = [r for t, r in runs if t == b]
    return ((ra[0]["rps"] + ra[1]["rps"]) / (rb[0]["rps"] + rb[1]["rps"]),
            (rb[0]["cpu_ms_per_request"] + rb[1]["cpu_ms_per_request"])
            / (ra[0]["cpu_ms_per_request"] + ra[1]["cpu_ms_per_request"]),
            [{"target": t, "rps": r["rps"], "cpu_ms_per_request": r["cpu_ms_per_request"]} for t, r in runs])


def abba(targets, comparisons, blocks, seconds):
    """The direct comparisons, `blocks` blocks each (abba_block: A B B A in even blocks, B A A B in odd ones), the
    comparisons' blocks interleaved: block 1 of every comparison, then block 2 of every comparison..., the order of
    the comparisons rotating from one round of blocks to the next. So no comparison owns the start of the timed
    part (right after the warm-up, when the JIT and the collector are still settling: the comparison that always
    came first read low in every run of 3 December) and every comparison sees the whole run. The figures are the
    medians over blocks, also per block order, so that a cost of switching targets shows as a difference between
    the two orders instead of a bias."""
    names = list(comparisons)
    got = {n: {"rps": [], "cpu": [], "runs": []} for n in names}
    for i in range(blocks):
        shift = i % len(names)
        for n in names[shift:] + names[:shift]:
            rps, cpu, runs = abba_block(targets, *comparisons[n], seconds, flip=i % 2 == 1)
            got[n]["rps"].append(rps)
            got[n]["cpu"].append(cpu)
            got[n]["runs"].append(runs)
    out = {}
    for n in names:
        a, b = comparisons[n]
        rps, cpu = got[n]["rps"], got[n]["cpu"]
        out[n] = {"a": a, "b": b, "interleaved": True, "alternating_order": True, "rps_ratio_per_block": rps,
                  "rps_ratio_median": statistics.median(rps), "cpu_ratio_per_block": cpu,
                  "cpu_ratio_median": statistics.median(cpu),
                  "rps_ratio_median_abba": statistics.median(rps[0::2]),
                  "rps_ratio_median_baab": statistics.median(rps[1::2]) if len(rps) > 1 else None,
                  "blocks_at_or_above_0_95": sum(1 for x in rps if x >= 0.95),
                  "runs_per_block": got[n]["runs"]}
    return out


def paired_ratios(runs, a, b, key="rps"):
    """Per-round ratios a/b (both measured in the same round) and their median."""
    per_round = [x[key] / y[key] for x, y in zip(runs[a], runs[b])]
    return {"per_round": per_round, "median": statistics.median(per_round)}


def live_heap(kc):
    """After the timed runs: the live heap (a class histogram forces a full collection) and the instances of the
    extension's classes still alive. The per-request ones (adapters, request answers) must be gone: only the
    engine registry, the engines and their shared documents may stay."""
    out = subprocess.run(["jcmd", jvm_pids(kc)[0], "GC.class_histogram"], capture_output=True, text=True,
                         check=True).stdout
    rows = [(m.group(3), int(m.group(1)), int(m.group(2)))
            for m in re.finditer(r"^\s*\d+:\s+(\d+)\s+(\d+)\s+(\S+)", out, re.M)]
    ours = {c: {"instances": n, "bytes": b} for c, n, b in rows if c.startswith("dev.cimd.")}
    total = re.search(r"^Total\s+(\d+)\s+(\d+)", out, re.M)
    # the histogram is sorted by bytes: its first classes tell sessions kept for the login lifespan from a leak
    top = [{"class": c, "instances": n, "mib": round(b / 2**20, 1)} for c, n, b in rows[:20]]
    return {"live_objects": int(total.group(1)), "live_mib": round(int(total.group(2)) / 2**20, 1),
            "dev_cimd_classes": ours, "top_classes": top}


def stampede(kc, realm, host, client_id, n=200):
    _, challenge = K.pkce_pair()
    url = K.authorize_url(kc, realm, client_id, E.WEB_CB, challenge)
    statuses = K.concurrent_gets(url, n)
    return {"requests": n, "login_pages": statuses.count(200), "errors": n - statuses.count(200),
            "fetches": host.count(client_id)}


@contextlib.contextmanager
def ours_alone(args, warmup, max_seconds=1800):
    """The bench server "ours" alone, with the document host serving the bench documents: started, its targets
    warmed up like the bench's, (server, targets) handed to the block and both stopped after it. For the
    single-server investigation of benches/keycloak/profile.py."""
    os.makedirs(args.work, exist_ok=True)
    host = DocHost(args.work, E.HOSTS).start()
    for cid in (E.WEB, BENCH):
        host.json(cid, E.doc(cid))
    kc = server(args, host, "kc-ours", "ours", 8080)
    try:
        print(f"ours: started in {kc.start():.0f}s", flush=True)
        targets = bench_targets({"ours": kc})
        warm_up(targets, warmup, max_seconds=max_seconds)
        yield kc, targets
    finally:
        kc.stop()
        host.stop()


# The authentication sessions' cache of a local (non-clustered) Keycloak, with the reaper's interval set; Keycloak
# keeps its own settings for everything else.
CACHE_CONFIG = """<?xml version="1.0" encoding="UTF-8"?>
<infinispan xmlns="urn:infinispan:config:16.0">
  <cache-container name="keycloak">
    <local-cache name="authenticationSessions">
      <expiration interval="5000"/>
    </local-cache>
  </cache-container>
</infinispan>
"""


def server(args, host, name, kind, port):
    """A Keycloak for the bench: "ours" (the extension in providers/ and its realm component and client policy),
    "builtin" (--features=cimd and its client policy) or "plain" (neither: the same realm and database clients,
    the reference for what Keycloak itself spends on a client_id)."""
    builtin = kind == "builtin"
    home = K.install(args.dist, os.path.join(args.work, name))
    os.makedirs(os.path.join(home, "data", "import"), exist_ok=True)
    if kind == "ours":
        os.makedirs(os.path.join(home, "providers"), exist_ok=True)
        shutil.copy(args.jar, os.path.join(home, "providers", "cimd-keycloak.jar"))
    realm = E.realm_json(E.REALM, host.ca_file, ["none"], kind != "ours")
    if kind == "plain":
        del realm["clientProfiles"], realm["clientPolicies"]
    # Every timed request opens an authentication session that Keycloak keeps for the login lifespan (30 minutes
    # by default). At a thousand and more login pages a second that is millions of sessions in one run, and the
    # heap fills up until the collector takes most of the CPU (an earlier run ended at 20 requests/s on both
    # clients alike). A one-minute lifespan bounds the live sessions of the run to one minute's worth.
    realm.update(accessCodeLifespan=60, accessCodeLifespanUserAction=60, accessCodeLifespanLogin=60)
    # Infinispan removes expired sessions only when its reaper wakes up, once a minute by default, and under load a
    # sweep falls behind: at 2 400 login pages a second some three minutes' worth were alive, and in a run of 4
    # December 840 000 filled the 2 GiB heap. A reaper every 5 s keeps them near the one-minute lifespan.
    with open(os.path.join(home, "conf", "cache-bench.xml"), "w") as f:
        f.write(CACHE_CONFIG)
    with open(os.path.join(home, "data", "import", "cimd.json"), "w") as f:
        json.dump(realm, f)
    # A fixed 2 GiB heap (the tests use at most 1 GiB), so that the collector's work does not change during a run.
    return K.Keycloak(home, port, os.path.join(args.work, f"{name}.log"), features="cimd" if builtin else None,
                      heap="-Xms2g -Xmx2g",
                      extra_args=["--cache-config-file=cache-bench.xml", "--cache-config-mutate=true"]
                      + ([f"--truststore-paths={host.ca_file}"] if builtin else []))


def main():
    ap = K.driver_arguments()
    ap.add_argument("--classpath", required=True)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=6, help="a multiple of 6: each target in each position alike")
    ap.add_argument("--blocks", type=int, default=20,
                    help="blocks per direct comparison (A B B A and B A A B alternating; an even number)")
    ap.add_argument("--block-seconds", type=int, default=6, help="seconds per run inside a block")
    ap.add_argument("--warmup", type=int, default=30, help="seconds per target and pass of JIT warm-up")
    ap.add_argument("--warmup-jit", type=float, default=2.0,
                    help="warm up until the JIT compiler threads take at most this many µs of CPU per request")
    ap.add_argument("--warmup-max", type=int, default=1800, help="seconds of warm-up passes at most")
    ap.add_argument("--only-ours", action="store_true", help="skip the built-in feature's server")
    ap.add_argument("--plain", action="store_true",
                    help="add a Keycloak without any CIMD support: what a URL-length client_id costs Keycloak itself")
    ap.add_argument("--skip-jni", action="store_true", help="skip the JNI cost harness")
    ap.add_argument("--smoke", action="store_true",
                    help="every step once, as briefly as it goes (make test): proves the driver runs, measures nothing")
    args = ap.parse_args()
    if args.smoke:
        args.seconds, args.rounds, args.blocks, args.block_seconds = 1, 6, 2, 1
        args.warmup, args.warmup_max = 1, 1
    os.makedirs(args.work, exist_ok=True)
    host = DocHost(args.work, E.HOSTS).start()
    for cid in (E.WEB, BENCH, f"{E.APP}/clients/stampede-ours.json", f"{E.APP}/clients/stampede-builtin.json"):
        host.json(cid, E.doc(cid))
    results = {"machine": {"cpus": os.cpu_count(), "uname": " ".join(os.uname())}}

    config = json.dumps({"allow_loopback": True, "extra_ca_file": host.ca_file})
    calls = ["-Dcimd.bench.calls=3000"] if args.smoke else []
    out = "" if args.skip_jni else subprocess.run(
        ["java", "-Xshare:auto", *calls, "-cp", args.classpath, "dev.cimd.keycloak.jni.ResolveCostHarness",
         config, BENCH, E.WEB_CB], capture_output=True, text=True, check=True).stdout
    results["jni_ns_per_call"] = {k: float(v) for k, v in re.findall(r"^(\w+) ([\d.]+)$", out, re.M)}
    print("jni:", json.dumps(results["jni_ns_per_call"]), flush=True)

    servers = {}
    try:
        kinds = [("ours", 8080)] + ([] if args.only_ours else [("builtin", 8180)]) + (
            [("plain", 8280)] if args.plain else [])
        for name, port in kinds:
            servers[name] = server(args, host, f"kc-{name}", name, port)
            print(f"{name}: started in {servers[name].start():.0f}s", flush=True)
        fetches_before = host.count(BENCH)
        agents_before = len(host.agents.get(BENCH_KEY, []))
        targets = bench_targets(servers)
        results["warm_up"] = warm_up(targets, args.warmup, args.warmup_jit, args.warmup_max)
        comparisons = {"ours_url_over_ours_db": ("ours/url_client", "ours/db_client"),
                       "ours_url_over_ours_db_url_length": ("ours/url_client", "ours/db_client_url_length")}
        if not args.only_ours:
            comparisons["ours_url_over_builtin_url"] = ("ours/url_client", "builtin/url_client")
            comparisons["builtin_url_over_builtin_db"] = ("builtin/url_client", "builtin/db_client")
        if args.plain:
            comparisons["plain_db_url_length_over_plain_db"] = ("plain/db_client_url_length", "plain/db_client")
            comparisons["ours_db_url_length_over_plain_db_url_length"] = ("ours/db_client_url_length",
                                                                          "plain/db_client_url_length")
        results["abba"] = abba(targets, comparisons, args.blocks, args.block_seconds)
        for name, r in results["abba"].items():
            print(f"abba {name}:", json.dumps(r), flush=True)
        runs, med = interleaved_throughput(targets, args.seconds, args.rounds)
        results["throughput_runs"] = runs
        results["throughput_median_rps"] = med
        results["bench_document_fetches_during_timing"] = host.count(BENCH) - fetches_before
        agents = host.agents.get(BENCH_KEY, [])[agents_before:]
        results["bench_document_fetches_during_timing_by_agent"] = {a: agents.count(a) for a in set(agents)}
        results["throughput_median_cpu_ms_per_request"] = {
            t: statistics.median(r["cpu_ms_per_request"] for r in v) for t, v in runs.items()}
        for name, (a, b) in comparisons.items():
            results[f"ratio_{name}"] = med[a] / med[b]
            results[f"paired_rps_ratio_{name}"] = paired_ratios(runs, a, b)
            # CPU per request the other way round (b/a), so that above 1 means "a is cheaper", like throughput.
            results[f"paired_cpu_ratio_{name}"] = paired_ratios(runs, b, a, key="cpu_ms_per_request")
        print("medians:", json.dumps(med), flush=True)
        for name, kc in servers.items():
            results[f"live_heap_{name}"] = live_heap(kc)
            print(f"{name}: live heap {results[f'live_heap_{name}']}", flush=True)
        for name, kc in ((n, k) for n, k in servers.items() if n != "plain"):
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
