"""Does the URL client's extra CPU per login page fade when it is served for a while, or is it a steady cost?
(docs/benchmarks-keycloak.md, "Steady state"). The bench server "ours" (tests/keycloak/bench.py), warmed up like the
bench, then 12 phases alternating the URL client and `db-client` (A B A B A B, then B A B A B A), each phase five
consecutive 8 s wrk runs with the server's CPU time per request of each run; the medians per slice of a phase show
whether the first runs after a switch of client cost more than the later ones.

    scripts/keycloak-netns .cache/steady python3 tests/keycloak/steady.py --dist "$(scripts/keycloak-dist.sh)" \
        --jar "$PWD/java-spi/target/cimd-keycloak-0.1.0.jar" --work "$PWD/.cache/steady"
"""
import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B  # noqa: E402

URL, DB = "ours/url_client", "ours/db_client"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dist", required=True)
    ap.add_argument("--jar", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--slices", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=30, help="seconds of each of the two warm-up passes")
    args = ap.parse_args()
    rows = []
    with B.ours_alone(args, args.warmup) as (kc, targets):
        for phase, name in enumerate([URL, DB] * 3 + [DB, URL] * 3):
            for s in range(args.slices):
                cpu, threads = B.server_cpu_seconds(kc), B.thread_cpu_seconds(kc)
                run = B.wrk(targets[name][1], args.seconds)
                cpu, threads = B.server_cpu_seconds(kc) - cpu, B.thread_cpu_delta(threads, B.thread_cpu_seconds(kc))
                requests = max(1.0, run["rps"] * args.seconds)
                threads["(ended threads)"] = cpu - sum(threads.values())
                row = {"phase": phase, "target": name, "slice": s, "rps": run["rps"],
                       "cpu_us_per_request": cpu * 1e6 / requests,
                       "threads_us_per_request": {g: round(t * 1e6 / requests, 1) for g, t in threads.items()
                                                  if abs(t) * 1e6 / requests >= 0.5}}
                rows.append(row)
                print(json.dumps(row), flush=True)
    path = os.path.join(args.work, "steady.json")
    with open(path, "w") as f:
        json.dump(rows, f, indent=1)
    report(rows, args.slices)


def report(rows, slices):
    print("| slice of a phase | URL client: CPU µs per request, median | `db-client` | db / URL |")
    print("|---|---|---|---|")
    for s in list(range(slices)) + ["all"]:
        med = {t: statistics.median(r["cpu_us_per_request"] for r in rows
                                    if r["target"] == t and (s == "all" or r["slice"] == s)) for t in (URL, DB)}
        print(f"| {s} | {med[URL]:.0f} | {med[DB]:.0f} | {med[DB] / med[URL]:.2f} |")
    if all("threads_us_per_request" in r for r in rows):
        groups = sorted({g for r in rows for g in r["threads_us_per_request"]})
        print()
        print("| thread group | URL client: CPU µs per request, median | `db-client` | URL − db |")
        print("|---|---|---|---|")
        for g in groups:
            med = {t: statistics.median(r["threads_us_per_request"].get(g, 0.0) for r in rows if r["target"] == t)
                   for t in (URL, DB)}
            if max(med.values()) >= 1.0:
                print(f"| {g} | {med[URL]:.0f} | {med[DB]:.0f} | {med[URL] - med[DB]:+.0f} |")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--report":
        data = json.load(open(sys.argv[2]))
        report(data, 1 + max(r["slice"] for r in data))
    else:
        main()
