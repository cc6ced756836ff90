"""The cluster soak (issue 32): the cluster suite's two production nodes (tests/keycloak/cluster.py's set-up,
shared), loaded for a few minutes with full logins of several URL clients spread over both nodes, while the
documents change and one node is stopped (SIGTERM) and started again. Run by `scripts/keycloak-cluster.sh --soak
SECONDS` (`make keycloak-cluster-soak`, not part of `make test`).

    python3 tests/keycloak/cluster_soak.py --seconds N [cluster.py's options]

What it checks, and how:
- Logins. WORKERS threads log in in a loop, each login a full flow: authorization (login form, consent) with a
  random node as the preferred one, the code exchanged on the other node, the refresh token used on the first,
  and a logout (so that user sessions do not pile up in memory: flat memory must mean no leak, not a cap).
  This script is the load balancer, with health checks as a real one has: every request goes to its preferred
  node unless that node is marked down, then to the other one. A node is marked down the moment its stop is
  called (before the SIGTERM) and up again once it answers; so the only requests that can reach a stopping node
  are those already sent when its stop was called. A failed login is *expected* when one of its requests went to
  the stopped node during that node's stop window (from the stop call to the moment it answers again); any
  other failure is unexpected and fails the soak.
- Fetches. Every document has a short lifetime (max-age LIFETIME s, the component's min_cache_ttl_s lowered to
  it), so several lifetimes pass. A sampler reads each node's cache entries (`GET cimd/clients`: each entry's
  confirmed_at is the time of the node's last fetch of it, to the second) and counters (`GET cimd/stats`) every
  SAMPLE_S seconds. Per node lifetime (a restart is a new one, with an empty engine) and per document, two
  fetches are never less than one document lifetime apart; and the document host's own count per URL stays within
  the bound that follows: for each node lifetime, floor(its seconds / LIFETIME) + 1.
- Changes. Every CHANGE_S seconds each document gets a new client_name (v1, v2, ...); each node must hold the new
  version within LIFETIME + SWR_SLACK seconds (the old one expires, the next use refreshes it).
- Memory. Each node is started with --metrics-enabled=true (a build option); the sampler reads the JVM heap in
  use (jvm_memory_used_bytes, area heap) from its management port and the process's VmRSS. A report, per node
  lifetime: first, last, max, and the floor (lowest sample) and median of the second and of the last quarter of
  the samples. The leak check fails a node lifetime whose last-quarter floor exceeds 1.5 times its second-quarter
  floor: the heap in use is a sawtooth between collections, and its floor is the live set (plus what the next
  collection will take); the first quarter is warm-up. The bound is generous on purpose (the young generation's
  size moves, and a sample is rarely just after a collection): it catches what each login would leave behind,
  which grows without bound, not a cache filling to its size.
The last line is "cluster-soak: N passed, M failed"; the results (every login, every sample) go to --results.
"""
import json
import os
import random
import statistics
import sys
import threading
import time
import traceback
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kc as K  # noqa: E402
from cluster import (ASSERTION_TYPE, HOSTS, NODES, PKJWT_CB, PUBLIC, PUBLIC_PORT, REALM, Public, Results,  # noqa: E402
                     cluster_arguments, cluster_view, prepare_nodes, served, start_nodes, stop_all, tally)
from dochost import DocHost  # noqa: E402
from e2e import WEB_CB, doc, realm_json  # noqa: E402

LIFETIME = 30  # seconds: each document's max-age, and the component's min_cache_ttl_s
CHANGE_S = 45
SAMPLE_S = 5
WORKERS = 4
SWR_SLACK = 15  # seconds after a document's expiry by which each node must hold its new version
LEAK_RATIO = 1.5
WEB_CLIENTS = [f"https://app.example.com/soak/web-{i}.json" for i in range(3)]
AGENTS = [f"https://tools.example.org/soak/agent-{i}.json" for i in range(2)]


def jwks_url(agent):
    return f"https://keys.example.com/soak/{agent.rsplit('/', 1)[1][:-5]}/jwks.json"


class Balancer:
    """Which nodes take requests: both, except one marked down between its stop call and its next answer."""

    def __init__(self, nodes):
        self.nodes = nodes
        self.down = set()
        self.lock = threading.Lock()

    def pick(self, prefer):
        with self.lock:
            if prefer not in self.down:
                return prefer
            live = [n for n in self.nodes if n not in self.down]
            return live[0] if live else prefer


class Balanced(K.Browser):
    """A browser behind the balancer: each request for the public URL goes to `prefer` unless it is down, with the
    public Host header; every request sent is recorded as (node, sent, done, status or error)."""

    def __init__(self, lb, prefer):
        super().__init__()
        self.lb, self.prefer, self.sent = lb, prefer, []

    def request(self, method, url, form=None, headers=None, timeout=30):
        name = self.lb.pick(self.prefer)
        node = self.lb.nodes[name]
        target = node.base + url[len(PUBLIC):] if url.startswith(PUBLIC + "/") else url
        row = {"node": name, "step": urllib.parse.urlparse(url).path.rsplit("/", 1)[-1], "sent": time.time()}
        self.sent.append(row)
        try:
            r = super().request(method, target, form=form, timeout=timeout,
                                headers=dict(headers or {}, Host=f"localhost:{PUBLIC_PORT}"))
        except Exception as e:  # noqa: BLE001 - a refused or reset connection is the login's failure
            row.update(done=time.time(), error=f"{type(e).__name__}: {e}")
            raise
        row.update(done=time.time(), status=r.status)
        r.url = url
        return r


def one_login(lb, client, agent_key, rng):
    """A full flow; (ok, what failed, the requests sent, the logout's status or error). The logout is recorded
    apart: it keeps the sessions from piling up, and its own failures are a check of their own."""
    first = rng.choice(sorted(lb.nodes))
    other = next(n for n in sorted(lb.nodes) if n != first)
    pkjwt = client in AGENTS
    cb = PKJWT_CB if pkjwt else WEB_CB
    ep = Public.endpoints(REALM)
    auth = Balanced(lb, first)
    sent = auth.sent

    def client_auth():
        if not pkjwt:
            return {}
        return {"client_assertion_type": ASSERTION_TYPE,
                "client_assertion": K.client_assertion(agent_key, "soak-1", client, ep["issuer"])}
    step = "authorize"
    try:
        out = K.login(auth, Public, REALM, client, cb)
        if not out.get("code"):
            r = out.get("after_consent") or out.get("after_login") or out["authorize"]
            return False, f"authorize: no code ({r.status} {r.text[:160]!r})", sent, None
        step = "token"
        tok = Balanced(lb, other)
        tok.sent = sent
        t = tok.post(ep["token"], {"grant_type": "authorization_code", "code": out["code"], "redirect_uri": cb,
                                   "client_id": client, "code_verifier": out["verifier"], **client_auth()})
        if t.status != 200:
            return False, f"token: {t.status} {t.text[:160]!r}", sent, None
        claims = K.decode_jwt(t.json()["access_token"])
        if claims.get("azp") != client:
            return False, f"token: azp {claims.get('azp')!r}", sent, None
        step = "refresh"
        r = auth.post(ep["token"], {"grant_type": "refresh_token", "refresh_token": t.json()["refresh_token"],
                                    "client_id": client, **client_auth()})
        if r.status != 200:
            return False, f"refresh: {r.status} {r.text[:160]!r}", sent, None
    except Exception as e:  # noqa: BLE001
        return False, f"{step}: {type(e).__name__}: {e}", sent, None
    # The session ended on the other node: the refresh token and the client's authentication, form-encoded.
    try:
        lo = tok.post(f"{PUBLIC}/realms/{REALM}/protocol/openid-connect/logout",
                      {"refresh_token": r.json()["refresh_token"], "client_id": client, **client_auth()})
        logout = lo.status if lo.status in (200, 204) else f"{lo.status} {lo.text[:160]!r}"
    except Exception as e:  # noqa: BLE001
        logout = f"{type(e).__name__}: {e}"
    return True, None, sent, logout


class Soak:
    def __init__(self, nodes, host, agent_key, seconds):
        self.nodes, self.host, self.agent_key, self.seconds = nodes, host, agent_key, seconds
        self.lb = Balancer(nodes)
        self.logins, self.samples, self.changes, self.events = [], [], [], []
        self.lock = threading.Lock()
        self.stop_flag = threading.Event()
        self.version = 1
        # Node lifetimes: [{"node", "instance", "from", "to"}]; the current one per node has "to" None.
        self.lifetimes = [{"node": n, "instance": 1, "from": None, "to": None} for n in nodes]
        self.token = {"value": None, "at": 0}

    def event(self, what, **kw):
        row = {"t": time.time(), "event": what, **kw}
        self.events.append(row)
        print(f"cluster-soak: {time.strftime('%H:%M:%S')} {what} {kw if kw else ''}", flush=True)

    def lifetime(self, node):
        return next(x for x in reversed(self.lifetimes) if x["node"] == node)

    def publish(self):
        v = self.version
        for i, url in enumerate(WEB_CLIENTS):
            self.host.json(url, doc(url, client_name=f"Soak Web {i} v{v}"), max_age=LIFETIME)
        for i, url in enumerate(AGENTS):
            self.host.json(url, doc(url, client_name=f"Soak Agent {i} v{v}", redirect_uris=[PKJWT_CB],
                                    token_endpoint_auth_method="private_key_jwt", jwks_uri=jwks_url(url)),
                           max_age=LIFETIME)
            self.host.json(jwks_url(url), {"keys": [K.public_jwk(self.agent_key, "soak-1")]}, max_age=LIFETIME)

    def worker(self, seed):
        rng = random.Random(seed)
        clients = WEB_CLIENTS + AGENTS
        while not self.stop_flag.is_set():
            client = rng.choice(clients)
            started = time.time()
            ok, error, sent, logout = one_login(self.lb, client, self.agent_key, rng)
            with self.lock:
                self.logins.append({"client": client, "started": started, "ended": time.time(), "ok": ok,
                                    "error": error, "requests": sent, "logout": logout})

    def admin_token(self):
        if time.time() - self.token["at"] > 40 or not self.token["value"]:
            for name in sorted(self.nodes):
                if name in self.lb.down:
                    continue
                try:
                    self.token = {"value": self.nodes[name].admin_token(), "at": time.time()}
                    break
                except Exception:  # noqa: BLE001 - the other node, or the next sample
                    pass
        return self.token["value"]

    def sample(self):
        for name, node in self.nodes.items():
            try:
                self.sample_node(name, node)
            except Exception as e:  # noqa: BLE001 - a node stopping under the sampler; the next sample
                print(f"cluster-soak: sample of node {name} failed: {type(e).__name__}: {e}", flush=True)

    def sample_node(self, name, node):
        proc = node.proc
        if name in self.lb.down or proc is None:
            return
        row = {"t": time.time(), "node": name, "instance": self.lifetime(name)["instance"]}
        try:
            m = node.metrics("jvm_")
            heap = [v for n, labels, v in m if n == "jvm_memory_used_bytes" and labels.get("area") == "heap"]
            row["heap_used"] = sum(heap) if heap else None
            live = [v for n, _, v in m if n == "jvm_gc_live_data_size_bytes"]
            row["live_data"] = live[0] if live else None
            # The long-lived pool's share of its maximum after the last collection (Micrometer's heap pressure).
            after = [v for n, labels, v in m if n == "jvm_memory_usage_after_gc_percent"
                     and labels.get("area") == "heap"]
            row["after_gc_fraction"] = after[0] if after else None
        except Exception as e:  # noqa: BLE001
            row["metrics_error"] = f"{type(e).__name__}: {e}"
        row["rss"] = rss(proc.pid)
        token = self.admin_token()
        try:
            entries = node.admin("GET", f"{REALM}/cimd/clients", token=token)
            stats = node.admin("GET", f"{REALM}/cimd/stats", token=token)
            if entries.status == 200:
                row["entries"] = {e["client_id"]: {"confirmed_at": e.get("confirmed_at"),
                                                   "fetched_at": e.get("fetched_at"),
                                                   "client_name": e.get("client_name"),
                                                   "state": e.get("state")} for e in entries.json()}
            if stats.status == 200:
                row["fetches"] = stats.json().get("fetches")
        except Exception as e:  # noqa: BLE001
            row["admin_error"] = f"{type(e).__name__}: {e}"
        with self.lock:
            self.samples.append(row)

    def sampler(self):
        while not self.stop_flag.is_set():
            started = time.time()
            self.sample()
            self.stop_flag.wait(max(0.0, SAMPLE_S - (time.time() - started)))

    def changer(self):
        while not self.stop_flag.wait(CHANGE_S):
            self.version += 1
            self.publish()
            self.changes.append({"t": time.time(), "version": self.version})
            self.event("documents changed", version=self.version)

    def restart(self, name, down_s=10):
        node = self.nodes[name]
        window = {"node": name}
        with self.lb.lock:
            self.lb.down.add(name)
        window["stop_called"] = time.time()
        self.event("stopping node", node=name)
        node.stop()
        window["exited"] = time.time()
        self.lifetime(name)["to"] = window["exited"]
        self.event("node exited", node=name, seconds=round(window["exited"] - window["stop_called"], 1))
        time.sleep(down_s)
        window["start_called"] = time.time()
        took = node.start()
        window["answers"] = time.time()
        inst = self.lifetime(name)["instance"] + 1
        self.lifetimes.append({"node": name, "instance": inst, "from": window["answers"], "to": None})
        with self.lb.lock:
            self.lb.down.discard(name)
        self.event("node answers again", node=name, start_s=round(took, 1))
        return window

    def run(self):
        self.publish()
        self.started = time.time()
        for x in self.lifetimes:
            x["from"] = self.started
        self.event("soak started", seconds=self.seconds, workers=WORKERS, lifetime_s=LIFETIME)
        # One login per client and node first, one at a time: a user's first consent to a client is a row
        # inserted, and concurrent first consents of one user to one client would race to insert it.
        rng = random.Random(0)
        for client in WEB_CLIENTS + AGENTS:
            for _ in range(2):
                started = time.time()
                ok, error, sent, logout = one_login(self.lb, client, self.agent_key, rng)
                self.logins.append({"client": client, "started": started, "ended": time.time(), "ok": ok,
                                    "error": error, "requests": sent, "logout": logout})
        self.event("first logins done", ok=sum(1 for x in self.logins if x["ok"]), of=len(self.logins))
        threads = [threading.Thread(target=self.worker, args=(i,), daemon=True) for i in range(WORKERS)]
        threads += [threading.Thread(target=self.sampler, daemon=True),
                    threading.Thread(target=self.changer, daemon=True)]
        for t in threads:
            t.start()
        time.sleep(self.seconds * 0.4)
        self.window = self.restart("a")
        remaining = self.started + self.seconds - time.time()
        if remaining > 0:
            time.sleep(remaining)
        self.stop_flag.set()
        for t in threads:
            t.join(timeout=90)
        self.ended = time.time()
        for x in self.lifetimes:
            if x["to"] is None:
                x["to"] = self.ended
        self.sample()  # the final counters
        self.event("soak ended", logins=len(self.logins))


def rss(pid):
    """VmRSS in bytes of the JVM (kc.sh execs java in production mode; else its child)."""
    for p in [pid] + children(pid):
        try:
            with open(f"/proc/{p}/comm") as f:
                if f.read().strip() != "java":
                    continue
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            continue
    return None


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def in_window(req, w):
    """A request to the stopped node while it was stopping or down (sent before it answered again, not answered
    before its stop was called)."""
    return (req["node"] == w["node"] and req["sent"] < w["answers"]
            and req.get("done", float("inf")) >= w["stop_called"])


def median_of(values):
    return statistics.median(values) if values else None


def memory_report(samples, lifetimes):
    out = []
    for lt in lifetimes:
        rows = [s for s in samples if s["node"] == lt["node"] and s["instance"] == lt["instance"]
                and s.get("heap_used")]
        if not rows:
            out.append({"node": lt["node"], "instance": lt["instance"], "samples": 0})
            continue
        heap = [s["heap_used"] for s in rows]
        rs = [s["rss"] for s in rows if s.get("rss")]
        q = max(1, len(rows) // 4)
        second, last = heap[q:2 * q], heap[-q:]
        rep = {"node": lt["node"], "instance": lt["instance"], "samples": len(rows),
               "seconds": round(rows[-1]["t"] - rows[0]["t"]),
               "heap_mib": {"first": mib(heap[0]), "last": mib(heap[-1]), "max": mib(max(heap)),
                            "q2_median": mib(median_of(second)), "q4_median": mib(median_of(last)),
                            "q2_min": mib(min(second)), "q4_min": mib(min(last))},
               "rss_mib": {"first": mib(rs[0]), "last": mib(rs[-1]), "max": mib(max(rs)),
                           "q2_median": mib(median_of(rs[q:2 * q])), "q4_median": mib(median_of(rs[-q:]))}
               if rs else None}
        # The floor of the sawtooth (the lowest sample of a quarter: the heap just after a collection, or close):
        # what a leak raises.
        rep["heap_q4_over_q2"] = round(min(last) / min(second), 2) if len(rows) >= 8 else None
        live = [s["live_data"] for s in rows if s.get("live_data")]
        rep["live_data_mib"] = {"first": mib(live[0]), "last": mib(live[-1])} if live else None
        after = [s["after_gc_fraction"] for s in rows if s.get("after_gc_fraction") is not None]
        rep["long_lived_after_gc"] = {"first": after[0], "last": after[-1], "max": max(after)} if after else None
        out.append(rep)
    return out


def mib(v):
    return round(v / 2**20, 1) if v else None


def fetch_report(soak):
    """Per node lifetime and document: the distinct confirmed_at times seen (one per fetch), the shortest gap."""
    seen = {}
    for s in soak.samples:
        for cid, e in (s.get("entries") or {}).items():
            if e.get("confirmed_at"):
                seen.setdefault((s["node"], s["instance"], cid), set()).add(e["confirmed_at"])
    rows = []
    for (node, inst, cid), times in sorted(seen.items()):
        ts = sorted(parse_time(t) for t in times)
        gaps = [b - a for a, b in zip(ts, ts[1:])]
        rows.append({"node": node, "instance": inst, "client_id": cid, "fetches_seen": len(ts),
                     "min_gap_s": min(gaps) if gaps else None})
    return rows


def parse_time(t):
    return time.mktime(time.strptime(t, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone


def version_lags(soak):
    """For each change: seconds until each node lifetime alive at the time held every document's new version (as
    its sampler saw it), or None if it never did before the end or its stop."""
    out = []
    for ch in soak.changes:
        want = f" v{ch['version']}"
        for lt in soak.lifetimes:
            if not (lt["from"] <= ch["t"] and (lt["to"] or soak.ended) - ch["t"] > LIFETIME + SWR_SLACK):
                continue
            done = None
            for s in soak.samples:
                if s["node"] != lt["node"] or s["instance"] != lt["instance"] or s["t"] < ch["t"]:
                    continue
                entries = s.get("entries") or {}
                names = [(entries.get(c) or {}).get("client_name") or "" for c in WEB_CLIENTS + AGENTS]
                if all(n.endswith(want) for n in names):
                    done = s["t"] - ch["t"]
                    break
            out.append({"version": ch["version"], "node": lt["node"], "instance": lt["instance"],
                        "lag_s": None if done is None else round(done, 1)})
    return out


def checks(res, soak, nodes):
    w = soak.window
    logins = soak.logins

    def outcomes():
        bad, expected = [], []
        for x in logins:
            if x["ok"]:
                continue
            (expected if any(in_window(r, w) for r in x["requests"]) else bad).append(x)
        # Requests to the stopped node already sent when its stop was called and answered (or failed) after it.
        in_flight = [r for x in logins for r in x["requests"]
                     if r["node"] == w["node"] and r["sent"] < w["stop_called"] <= r.get("done", float("inf"))]
        soak.summary["logins"] = {"total": len(logins), "ok": sum(1 for x in logins if x["ok"]),
                                  "failed_expected": len(expected), "failed_unexpected": len(bad),
                                  "requests_in_flight_at_stop": len(in_flight),
                                  "in_flight_outcomes": sorted({str(r.get("status", r.get("error")))[:80]
                                                                for r in in_flight})}
        by_client = {}
        for x in logins:
            by_client.setdefault(x["client"], [0, 0])[0 if x["ok"] else 1] += 1
        soak.summary["logins"]["by_client"] = {urllib.parse.urlparse(c).path: v for c, v in sorted(by_client.items())}
        assert logins, "no login at all"
        assert not bad, (f"{len(bad)} unexpected failed login(s), e.g. " +
                         "; ".join(f"{x['error']} via {[r['node'] for r in x['requests']]}" for x in bad[:3]))
        return (f"{len(logins)} logins in {soak.ended - soak.started:.0f}s ({len(logins) / (soak.ended - soak.started):.1f}/s, "
                f"{WORKERS} workers, {len(WEB_CLIENTS)} clients with none, {len(AGENTS)} with private_key_jwt): "
                f"{soak.summary['logins']['ok']} ok, {len(expected)} failed in flight on node a's stop window "
                f"({len(in_flight)} request(s) in flight on a at the stop call: "
                f"{soak.summary['logins']['in_flight_outcomes']}) "
                f"({w['exited'] - w['stop_called']:.1f}s to exit, answers again {w['answers'] - w['stop_called']:.0f}s "
                f"after the stop call), 0 unexpected"
                + (f"; expected failures: " + "; ".join(sorted({x['error'][:80] for x in expected}))[:300]
                   if expected else ""))
    res.case("logins spread over both nodes while documents change and node a restarts: no unexpected failure",
             outcomes)

    def spread():
        per = {}
        for x in logins:
            for r in x["requests"]:
                before = r["sent"] < w["stop_called"]
                after = r["sent"] > w["answers"]
                key = (r["node"], "before" if before else "after" if after else "during")
                per[key] = per.get(key, 0) + 1
        for name in nodes:
            assert per.get((name, "before")), f"node {name} served nothing before the restart: {per}"
            assert per.get((name, "after")), f"node {name} served nothing after the restart: {per}"
        leaked = per.get(("a", "during"), 0)
        soak.summary["requests"] = {f"{n} {p}": v for (n, p), v in sorted(per.items())}
        logs = {name: served(node.log_path) for name, node in nodes.items()}
        for name, hits in logs.items():
            for step in ("GET auth", "POST authenticate", "POST token"):
                assert hits.get(step), f"node {name} served no {step!r} request: {hits}"
        members, names, _ = cluster_view(nodes["a"].log_path)
        assert members == 2, f"restarted node a: last view ({members}) [{names}]"
        return ("requests per node (before / during / after a's stop window): " + ", ".join(
            f"{n}: {per.get((n, 'before'), 0)} / {per.get((n, 'during'), 0)} / {per.get((n, 'after'), 0)}"
            for n in sorted(nodes)) + f"; sent to a during its window: {leaked} (in flight at the stop call); "
            f"restarted a rejoined, view (2) [{names}]")
    res.case("both nodes served every step before and after the restart; the balancer kept new requests off node a",
             spread)

    def fetches():
        rows = fetch_report(soak)
        soak.summary["fetch_gaps"] = rows
        short = [r for r in rows if r["min_gap_s"] is not None and r["min_gap_s"] < LIFETIME - 1]
        assert not short, f"fetched twice within a lifetime: {short}"
        # The document host's count per URL against the bound: per node lifetime, floor(seconds / LIFETIME) + 1.
        bound = sum(int(((lt["to"] or soak.ended) - lt["from"]) // LIFETIME) + 1 for lt in soak.lifetimes)
        per_url = {u: soak.host.count(u) for u in WEB_CLIENTS + AGENTS + [jwks_url(a) for a in AGENTS]}
        over = {u: n for u, n in per_url.items() if n > bound}
        lifetimes = sum(((lt["to"] or soak.ended) - lt["from"]) / LIFETIME for lt in soak.lifetimes)
        soak.summary["fetches"] = {"per_url": {urllib.parse.urlparse(u).path: n for u, n in per_url.items()},
                                   "bound_per_url": bound, "node_lifetimes_in_document_lifetimes": round(lifetimes, 1),
                                   "per_url_per_node_document_lifetime":
                                       {urllib.parse.urlparse(u).path: round(n / lifetimes, 2)
                                        for u, n in per_url.items()}}
        assert not over, f"document host counts over the bound {bound}: {over}"
        counters = {}
        for s in soak.samples:
            if s.get("fetches") is not None:
                counters[f"{s['node']}#{s['instance']}"] = s["fetches"]
        soak.summary["fetches"]["node_counters"] = counters
        gaps = [r["min_gap_s"] for r in rows if r["min_gap_s"] is not None]
        return (f"{len(rows)} (node lifetime, document) pairs; the shortest gap between two fetches of one document "
                f"by one node lifetime: {min(gaps) if gaps else 'n/a'}s (lifetime {LIFETIME}s); fetches per URL at "
                f"the host {sorted(per_url.values())} ≤ bound {bound} ({lifetimes:.1f} node×document lifetimes); "
                f"engine fetch counters per node lifetime {counters}")
    res.case("each node fetches each document at most once per document lifetime", fetches)

    def changes():
        lags = version_lags(soak)
        soak.summary["version_lags"] = lags
        assert soak.changes, "no document change during the soak"
        late = [x for x in lags if x["lag_s"] is None or x["lag_s"] > LIFETIME + SWR_SLACK]
        assert not late, f"new version not held within {LIFETIME + SWR_SLACK}s: {late}"
        worst = max((x["lag_s"] for x in lags), default=None)
        return (f"{len(soak.changes)} changes (v2..v{soak.version}); each live node lifetime held every document's "
                f"new version within {worst}s at worst ({len(lags)} checks; bound {LIFETIME + SWR_SLACK}s)")
    res.case("changed documents reach both nodes within a lifetime", changes)

    def memory():
        rep = memory_report(soak.samples, soak.lifetimes)
        soak.summary["memory"] = rep
        grown = [r for r in rep if r.get("heap_q4_over_q2") and r["heap_q4_over_q2"] > LEAK_RATIO]
        assert all(r["samples"] for r in rep), f"a node lifetime without memory samples: {rep}"
        assert not grown, f"heap grew beyond {LEAK_RATIO}x: {grown}"
        return "; ".join(
            f"{r['node']}#{r['instance']} ({r['samples']} samples, {r['seconds']}s): heap MiB first "
            f"{r['heap_mib']['first']} last {r['heap_mib']['last']} max {r['heap_mib']['max']}, floor Q2 "
            f"{r['heap_mib']['q2_min']} Q4 {r['heap_mib']['q4_min']} (×{r['heap_q4_over_q2']}), median Q2 "
            f"{r['heap_mib']['q2_median']} Q4 {r['heap_mib']['q4_median']}; RSS MiB "
            f"first {r['rss_mib']['first'] if r['rss_mib'] else None} last "
            f"{r['rss_mib']['last'] if r['rss_mib'] else None}" for r in rep)
    res.case(f"memory flat on both nodes (heap floor of the last quarter ≤ {LEAK_RATIO}× the second's, per node "
             f"lifetime)", memory)

    def logouts():
        done = [x for x in logins if x["ok"]]
        bad = [x for x in done if not isinstance(x["logout"], int)
               and not any(in_window(r, w) for r in x["requests"])]
        soak.summary["logouts"] = {"after_ok_logins": len(done), "failed_outside_window": len(bad)}
        assert not bad, f"{len(bad)} logout(s) failed, e.g. {[x['logout'] for x in bad[:3]]}"
        return f"{len(done)} sessions ended by a logout on the token's node; none failed outside a's stop window"
    res.case("every session ended by its logout (sessions do not pile up)", logouts)


def main():
    ap = cluster_arguments()
    ap.add_argument("--seconds", type=int, default=240)
    args = ap.parse_args()
    suite_started = time.time()
    timings = {}
    host = DocHost(args.work, HOSTS).start()
    agent_key = K.ec_key()
    realm = realm_json(REALM, host.ca_file, ["none", "private_key_jwt"])
    realm["components"]["org.keycloak.storage.client.ClientStorageProvider"][0]["config"]["min_cache_ttl_s"] = [
        str(LIFETIME)]
    nodes = prepare_nodes(args, realm, timings, build_options=["--metrics-enabled=true"])
    res = Results()
    soak = Soak(nodes, host, agent_key, args.seconds)
    soak.summary = {}
    try:
        start_nodes(nodes, timings)
        ran = False
        try:
            soak.run()
            ran = True
        except Exception as e:  # noqa: BLE001
            res.rows.append({"name": "soak ran", "ok": False, "evidence": f"{e}\n{traceback.format_exc()}"})
            print(f"FAIL soak ran: {e}", flush=True)
        if ran:
            checks(res, soak, nodes)
    finally:
        soak.stop_flag.set()
        stop_all(nodes, host)
    timings["suite_s"] = round(time.time() - suite_started, 1)
    passed, failed = tally(res)
    if args.results:
        t0 = getattr(soak, "started", suite_started)
        with open(args.results, "w") as f:
            json.dump({"suite": "keycloak-cluster-soak", "keycloak": os.path.basename(args.dist.rstrip("/")),
                       "nodes": len(NODES), "seconds": args.seconds, "workers": WORKERS, "lifetime_s": LIFETIME,
                       "change_every_s": CHANGE_S, "sample_every_s": SAMPLE_S, "passed": passed, "failed": failed,
                       "timings": timings, "summary": soak.summary, "window": getattr(soak, "window", None),
                       "events": [dict(e, t=round(e["t"] - t0, 1)) for e in soak.events],
                       "cases": res.rows,
                       "samples": [{k: (round(v - t0, 1) if k == "t" else v) for k, v in s.items()}
                                   for s in soak.samples],
                       "logins": [{"client": urllib.parse.urlparse(x["client"]).path,
                                   "t": round(x["started"] - t0, 2), "s": round(x["ended"] - x["started"], 3),
                                   "ok": x["ok"], "error": x["error"], "logout": x["logout"],
                                   "nodes": "".join(r["node"] for r in x["requests"])} for x in soak.logins]},
                      f, indent=1)
        # The small copy for docs/data: no per-login rows and no cache entries; the memory series kept.
        with open(args.results, encoding="utf-8") as f:
            full = json.load(f)
        full["samples"] = [[s["t"], s["node"], s["instance"], mib(s.get("heap_used")), mib(s.get("rss")),
                            s.get("fetches")] for s in full["samples"]]
        full["samples_columns"] = ["t_s", "node", "instance", "heap_used_mib", "rss_mib", "engine_fetches"]
        failed_logins = [x for x in full.pop("logins") if not x["ok"]]
        full["failed_logins"] = failed_logins
        with open(os.path.splitext(args.results)[0] + "-summary.json", "w") as f:
            json.dump(full, f, indent=1)
    print(f"cluster-soak: {passed} passed, {failed} failed in {timings['suite_s']:.0f}s", flush=True)
    return 0 if failed == 0 and passed else 1


if __name__ == "__main__":
    sys.exit(main())
