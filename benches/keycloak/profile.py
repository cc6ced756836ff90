"""Where a login page's CPU goes, per client kind: async-profiler inside the bench's Keycloak with the extension
(scripts/keycloak-profile.sh, inside scripts/netns).

Starts the bench server "ours" (benches/keycloak/bench.py), warms every target up, then for each repetition profiles
wrk against each target in the order A B ... B A (CPU time, itimer), and turns the collapsed stacks into
microseconds of CPU per request: inclusive per frame, so that the frames of the extension (dev/cimd) and the
frames where two client kinds differ can be read off directly.

    python3 benches/keycloak/profile.py --dist DIR --jar JAR --work DIR --profiler libasyncProfiler.so [--seconds N]
    python3 benches/keycloak/profile.py --report WORK/profile.json [--a T] [--b T] [--grep S]
"""
import argparse
import collections
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The Keycloak harness (start, stop, login, the document host) is the end-to-end test's: tests/keycloak.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "keycloak"))
import bench as B  # noqa: E402

ATTACH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Attach.java")


def agent(pid, lib, options):
    subprocess.run(["java", ATTACH, pid, lib, options], check=True, capture_output=True, text=True)


def stacks(collapsed_file):
    """(stack, samples) per line of an async-profiler collapsed file."""
    with open(collapsed_file) as f:
        for line in f:
            stack, _, n = line.rstrip("\n").rpartition(" ")
            if stack:
                yield stack, int(n)


def inclusive(collapsed_file):
    """Samples per frame, each frame counted once per stack (inclusive), and the total."""
    per_frame, total = collections.Counter(), 0
    for stack, n in stacks(collapsed_file):
        total += n
        for frame in set(stack.split(";")):
            per_frame[frame] += n
    return per_frame, total


def profile(args):
    runs = []
    with B.ours_alone(args, args.warmup, max_seconds=1 if args.smoke else 1800) as (kc, targets):
        pid = B.jvm_pids(kc)[0]
        names = list(targets)
        # The first runs with the agent loaded are much slower (the JIT recompiles what the agent's attachment
        # deoptimised): one untimed profiled pass over every target first.
        for t in names:
            agent(pid, args.profiler, f"start,event=itimer,interval={args.interval_ms}ms")
            B.wrk(targets[t][1], args.warmup)
            agent(pid, args.profiler, f"stop,file={os.path.join(args.work, 'priming.txt')}")
        for rep in range(args.reps):
            order = names + names[::-1]
            for i, t in enumerate(order):
                _, url = targets[t]
                out = os.path.join(args.work, f"profile-{t.replace('/', '-')}-{rep}-{i}.collapsed")
                B.wrk(url, 2)
                agent(pid, args.profiler, f"start,event=itimer,interval={args.interval_ms}ms")
                cpu = B.server_cpu_seconds(kc)
                run = B.wrk(url, args.seconds)
                cpu = B.server_cpu_seconds(kc) - cpu
                agent(pid, args.profiler, f"stop,collapsed,file={out}")
                requests = run["rps"] * args.seconds
                runs.append({"target": t, "rep": rep, "file": out, "requests": requests, "rps": run["rps"],
                             "non_2xx": run["non_2xx"], "cpu_ms_per_request": cpu * 1000 / requests})
                print(f"{t}: {run['rps']:.0f} req/s, {cpu * 1000 / requests:.3f} ms CPU per request", flush=True)
    result = {"interval_ms": args.interval_ms, "seconds": args.seconds, "runs": runs}
    path = os.path.join(args.work, "profile.json")
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    return path


# Where a stack's time is booked: the first category (in this order) one of its frames matches.
CATEGORIES = [
    ("the extension (dev/cimd, engine calls included)", ("dev/cimd/",)),
    ("Keycloak's client-storage lookup (storage manager, serialized cache load)",
     ("org/keycloak/storage/ClientStorageManager.", "RealmCacheManager.computeSerialized")),
    ("Keycloak's client policies (besides the extension's condition)", ("org/keycloak/services/clientpolicy/",)),
    ("login page rendering (FreeMarker, themes, messages)", ("freemarker/", "org/keycloak/theme/",
                                                             "FreeMarkerLoginFormsProvider")),
    ("authentication session", ("createAuthenticationSession", "AuthenticationSessionManager",
                                "RootAuthenticationSessionAdapter")),
    ("the rest of the authorization endpoint", ("org/keycloak/protocol/oidc/endpoints/AuthorizationEndpoint.",)),
    ("HTTP, Vert.x and RESTEasy outside the endpoint", ("io/vertx/", "io/netty/", "io/quarkus/", "org/jboss/")),
    ("JIT compiler threads", ("CompileBroker::",)),
    ("garbage collector threads", ("G1", "GCTask", "ConcurrentGCThread", "WorkerThread::run")),
]


def categorized(meta, target):
    """µs of CPU per request by category (CATEGORIES, else "other")."""
    per, requests = collections.Counter(), 0.0
    for run in meta["runs"]:
        if run["target"] != target:
            continue
        requests += run["requests"]
        for stack, n in stacks(run["file"]):
            per[next((c for c, keys in CATEGORIES if any(k in stack for k in keys)), "other")] += n
    us = meta["interval_ms"] * 1000 / requests
    return {k: v * us for k, v in per.items()}


def per_request(meta, target):
    """Inclusive µs of CPU per request by frame, over all runs of one target."""
    frames, requests, samples = collections.Counter(), 0.0, 0
    for run in meta["runs"]:
        if run["target"] != target:
            continue
        f, total = inclusive(run["file"])
        frames.update(f)
        samples += total
        requests += run["requests"]
    us = meta["interval_ms"] * 1000 / requests
    return {k: v * us for k, v in frames.items()}, samples * us


def report(path, a, b, grep, top, skip_reps=0):
    meta = json.load(open(path))
    meta = dict(meta, runs=[r for r in meta["runs"] if r["rep"] >= skip_reps])
    fa, ta = per_request(meta, a)
    fb, tb = per_request(meta, b)
    print(f"sampled CPU per request: {a} {ta:.0f} µs, {b} {tb:.0f} µs (ratio {ta / tb:.3f})")
    for t in (a, b):
        cpus = sorted(r["cpu_ms_per_request"] for r in meta["runs"] if r["target"] == t)
        print(f"  /proc CPU ms per request, {t}: median {cpus[len(cpus) // 2]:.3f} over {len(cpus)} runs")
    print(f"\nthe extension's frames (inclusive µs per request, share of {a}'s sampled CPU):")
    for k, v in sorted(((k, v) for k, v in fa.items() if "dev/cimd" in k), key=lambda x: -x[1])[:top]:
        print(f"  {v:8.1f} µs {100 * v / ta:5.2f} %  {k}")
    ca, cb = categorized(meta, a), categorized(meta, b)
    print(f"\nby category, µs of CPU per request (runs of repetition {skip_reps} and later):")
    print(f"| category | {a} | {b} | difference |")
    print("|---|---|---|---|")
    for name in [c for c, _ in CATEGORIES] + ["other"]:
        x, y = ca.get(name, 0.0), cb.get(name, 0.0)
        print(f"| {name} | {x:.1f} | {y:.1f} | {x - y:+.1f} |")
    x, y = sum(ca.values()), sum(cb.values())
    print(f"| **total** | **{x:.0f}** | **{y:.0f}** | **{x - y:+.0f}** ({x / y:.3f}) |")
    print(f"\nframes by difference {a} - {b} (inclusive µs per request){' matching ' + grep if grep else ''}:")
    keys = set(fa) | set(fb)
    diffs = sorted(((fa.get(k, 0) - fb.get(k, 0), k) for k in keys if not grep or grep in k), key=lambda x: -abs(x[0]))
    for d, k in diffs[:top]:
        print(f"  {d:+8.1f} µs  ({fa.get(k, 0):7.1f} vs {fb.get(k, 0):7.1f})  {k}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--report", help="print the report of an earlier run's profile.json")
    ap.add_argument("--dist")
    ap.add_argument("--jar")
    ap.add_argument("--work")
    ap.add_argument("--profiler", help="path of libasyncProfiler.so")
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=15)
    ap.add_argument("--interval-ms", type=int, default=4, help="itimer interval (finer is not honoured here)")
    ap.add_argument("--a", default="ours/url_client")
    ap.add_argument("--b", default="ours/db_client")
    ap.add_argument("--grep", default="")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--skip-reps", type=int, default=0, help="leave the first N repetitions out of the report")
    ap.add_argument("--smoke", action="store_true",
                    help="every step once, as briefly as it goes (make test): proves the driver runs, measures nothing")
    args = ap.parse_args()
    if args.smoke:
        args.seconds, args.reps, args.warmup = 1, 1, 1
    path = args.report or profile(args)
    report(path, args.a, args.b, args.grep, args.top, args.skip_reps)


if __name__ == "__main__":
    main()
