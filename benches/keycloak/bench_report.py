"""The tables of docs/benchmarks-keycloak.md, printed as Markdown from one bench.json written by benches/keycloak/bench.py
(scripts/keycloak-bench.sh), so that the figures in the document are the run's figures and nothing retyped.

    python3 benches/keycloak/bench_report.py .cache/bench/bench.json
    python3 benches/keycloak/bench_report.py --pool docs/data/keycloak-bench-*.json   # every block of several runs
"""
import json
import random
import statistics
import sys

TARGETS = [
    ("ours/url_client", "ours: URL client (engine cache)"),
    ("ours/db_client", "ours: `db-client`"),
    ("ours/db_client_url_length", "ours: database client, URL-length id"),
    ("builtin/url_client", "built-in: URL client (warm)"),
    ("builtin/db_client", "built-in: `db-client`"),
    ("builtin/db_client_url_length", "built-in: database client, URL-length id"),
    ("plain/db_client", "plain Keycloak: `db-client`"),
    ("plain/db_client_url_length", "plain Keycloak: database client, URL-length id"),
]

COMPARISONS = [
    ("ours_url_over_ours_db", "URL client (cache) / `db-client`, ours", "≥ 0.95"),
    ("ours_url_over_ours_db_url_length", "URL client (cache) / database client with a URL-length id, ours", "≥ 0.95"),
    ("ours_url_over_builtin_url", "ours URL client / built-in URL client (warm)", "≥ 1.0"),
    ("builtin_url_over_builtin_db", "built-in URL client / built-in `db-client`", "(reference)"),
    ("plain_db_url_length_over_plain_db", "plain Keycloak: URL-length database client / `db-client`", "(reference)"),
    ("ours_db_url_length_over_plain_db_url_length",
     "URL-length database client, ours / plain Keycloak", "(reference)"),
]

JNI = [
    ("native_version_call_baseline", "baseline: a native call returning a constant Java string"),
    ("native_resolve_hit_raw", "`CimdNative.resolve`, cache hit, caller holds the current version"),
    ("native_resolve_hit_with_redirect_raw", "the same, with a redirect_uri to check"),
    ("engine_resolve_hit", "`CimdEngine.resolve` (Java wrapper: read lock, native call, result line decoded)"),
    ("engine_resolve_hit_with_redirect", "the same, with a redirect_uri"),
    ("native_resolve_cached_with_redirect_raw", "`CimdNative.resolveCached` with a redirect_uri, cache hit"),
    ("engine_resolve_cached_with_redirect",
     "`CimdEngine.resolveCached` with a redirect_uri, the one call of an authorization request: one native cache hit"),
    ("native_resolve_full_document_raw", "cache hit for a caller without the current version (whole document crosses)"),
]


def fmt(x, digits=2):
    return f"{x:.{digits}f}"


def spread(xs):
    return f"{fmt(min(xs))}–{fmt(max(xs))}"


def median_interval(xs, resamples=20000, seed=1):
    """A 95 % bootstrap interval of the median of `xs` (percentile method; fixed seed, so that the report of one
    bench.json always prints the same figures)."""
    rng = random.Random(seed)
    meds = sorted(statistics.median(rng.choices(xs, k=len(xs))) for _ in range(resamples))
    return meds[int(0.025 * resamples)], meds[int(0.975 * resamples) - 1]


def main(path):
    r = json.load(open(path))
    present = [(k, label) for k, label in TARGETS if k in r.get("throughput_median_rps", {})]
    comparisons = [c for c in COMPARISONS if c[0] in r.get("abba", {})]

    print("### JNI cost of a cache-hit resolve (ns per call, median of 7 rounds × 300 000 calls)\n")
    print("| call | ns |\n|---|---|")
    for k, label in JNI:
        if k in r.get("jni_ns_per_call", {}):
            print(f"| {label} | {r['jni_ns_per_call'][k]:.0f} |")

    if "warm_up" in r:
        w = r["warm_up"]
        print(f"\nWarm-up: {w['passes']} passes, {w['seconds']:.0f} s of requests; JIT compiler threads in the last "
              "pass, µs of CPU per request: " + ", ".join(f"{s} {v}" for s, v in w["jit_us_per_request_last_pass"].items()))

    alternates = any(r["abba"][k].get("alternating_order") for k, _, _ in comparisons)
    print("\n### Direct comparisons: " + ("A B B A and B A A B blocks, alternating" if alternates
                                           else "A B B A blocks") + "\n")
    print("| A / B | target | blocks | throughput ratio: median (range) | 95 % interval of the median "
          "| blocks ≥ 0.95 | CPU per request, B / A: median (range) |")
    print("|---|---|---|---|---|---|---|")
    for k, label, target in comparisons:
        a = r["abba"][k]
        n = len(a["rps_ratio_per_block"])
        lo, hi = median_interval(a["rps_ratio_per_block"])
        print(f"| {label} | {target} | {n} | {fmt(a['rps_ratio_median'])} ({spread(a['rps_ratio_per_block'])}) "
              f"| {fmt(lo)}–{fmt(hi)} | {a['blocks_at_or_above_0_95']} of {n} "
              f"| {fmt(a['cpu_ratio_median'])} ({spread(a['cpu_ratio_per_block'])}) |")

    alternating = [(k, label) for k, label, _ in comparisons if r["abba"][k].get("alternating_order")]
    if alternating:
        print("\nBlocks alternate A B B A and B A A B. By order, and what a run right after a switch of target "
              "reads against the run after it on the same target (throughput, median over blocks):\n")
        print("| A / B | median of A B B A blocks | median of B A A B blocks "
              "| A: after a switch / in a row (B A A B) | B: after a switch / in a row (A B B A) |")
        print("|---|---|---|---|---|")
        for k, label in alternating:
            a = r["abba"][k]
            blocks = a["runs_per_block"]
            # In A B B A the second B follows a B; in B A A B the second A follows an A.
            b_switch = [blk[1]["rps"] / blk[2]["rps"] for blk in blocks[0::2]]
            a_switch = [blk[1]["rps"] / blk[2]["rps"] for blk in blocks[1::2]]
            print(f"| {label} | {fmt(a['rps_ratio_median_abba'])} | {fmt(a['rps_ratio_median_baab'])} "
                  f"| {fmt(statistics.median(a_switch)) if a_switch else '—'} "
                  f"| {fmt(statistics.median(b_switch)) if b_switch else '—'} |")

    runs = r["throughput_runs"]
    rounds = len(runs[present[0][0]])
    print(f"\n### Rotating round-robin: requests/s per run ({rounds} rounds)\n")
    print("| round | " + " | ".join(label for _, label in present) + " |")
    print("|---" * (len(present) + 1) + "|")
    for i in range(rounds):
        print(f"| {i + 1} | " + " | ".join(f"{runs[k][i]['rps']:.0f}" for k, _ in present) + " |")
    print("| median | " + " | ".join(f"**{r['throughput_median_rps'][k]:.0f}**" for k, _ in present) + " |")
    print("| server CPU ms per request, median | "
          + " | ".join(fmt(r["throughput_median_cpu_ms_per_request"][k], 3) for k, _ in present) + " |")
    non2xx = sum(run["non_2xx"] for k, _ in present for run in runs[k])
    print(f"\nNon-2xx responses over all timed runs: {non2xx}. Fetches of the benchmark document during the timed "
          f"runs: {r.get('bench_document_fetches_during_timing', '?')} (by User-Agent: "
          f"{r.get('bench_document_fetches_during_timing_by_agent', '?')}).")

    print("\n| A / B | target | ratio of medians | paired per round: median (range) "
          "| CPU per request B / A, paired: median |")
    print("|---|---|---|---|---|")
    for k, label, target in comparisons:
        p = r[f"paired_rps_ratio_{k}"]
        c = r[f"paired_cpu_ratio_{k}"]
        print(f"| {label} | {target} | {fmt(r[f'ratio_{k}'])} | {fmt(p['median'])} ({spread(p['per_round'])}) "
              f"| {fmt(c['median'])} |")

    print("\n### 200 concurrent first requests for one uncached client_id\n")
    print("| | login pages | errors | fetches at the document host |\n|---|---|---|---|")
    for name, label in (("ours", "cimd extension"), ("builtin", "built-in")):
        s = r.get(f"stampede_{name}")
        if s:
            print(f"| {label} | {s['login_pages']} | {s['errors']} | **{s['fetches']}** |")

    for name in ("ours", "builtin"):
        h = r.get(f"live_heap_{name}")
        if h:
            per_request = {k.rsplit(".", 1)[1]: v["instances"] for k, v in h["dev_cimd_classes"].items()
                           if k.rsplit(".", 1)[1] in ("CimdClientAdapter", "RequestAnswers", "Resolution",
                                                     "CimdClientStorageProvider")}
            print(f"\nLive heap of {name} after the timed runs (full collection): {h['live_mib']} MiB"
                  + (f"; per-request extension objects still reachable: {per_request}" if per_request else ""))
            if h.get("top_classes"):
                print("Largest classes: " + ", ".join(f"`{c['class']}` {c['mib']} MiB ({c['instances']})"
                                                      for c in h["top_classes"][:8]))

    all_ratios = [x for k, _, _ in comparisons[:2] for x in r["abba"][k]["rps_ratio_per_block"]]
    if all_ratios:
        print(f"\n(URL client / database client, every ABBA block of both comparisons: median "
              f"{fmt(statistics.median(all_ratios))}, {len(all_ratios)} blocks.)")


def pooled(paths):
    """Every block of every run in `paths`, per direct comparison: what several runs say together."""
    runs = [json.load(open(p)) for p in paths]
    print("| A / B | target | runs | blocks | median of all blocks | 95 % interval of the median | blocks ≥ 0.95 |")
    print("|---|---|---|---|---|---|---|")
    for k, label, target in COMPARISONS:
        xs = [x for r in runs for x in r.get("abba", {}).get(k, {}).get("rps_ratio_per_block", [])]
        if not xs:
            continue
        n_runs = sum(1 for r in runs if k in r.get("abba", {}))
        lo, hi = median_interval(xs)
        print(f"| {label} | {target} | {n_runs} | {len(xs)} | {fmt(statistics.median(xs))} | {fmt(lo)}–{fmt(hi)} "
              f"| {sum(1 for x in xs if x >= 0.95)} of {len(xs)} |")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--pool":
        pooled(sys.argv[2:])
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else ".cache/bench/bench.json")
