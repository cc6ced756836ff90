"""The HTTPS host for client metadata documents of the Keycloak drivers (tests/keycloak/e2e.py, demo.py, the
benchmark drivers), on loopback only.

It is a listener of the test origin (tests/origin/: the one program, with one throwaway CA per run, that the tests
of every language start; CIMD_TEST_ORIGIN names it, and scripts/keycloak-netns builds it). Documents and key sets
are served per (host name, path) from a table that tests change at will, and every request is recorded, so a test
can prove how many fetches reached the host (one for 200 concurrent first logins), that none did (a blocked
address), and which user agent made them. Network safety: it binds 127.0.0.1 only, and the drivers run it inside
scripts/netns.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "origin"))
from testorigin import Reply, TestOrigin  # noqa: E402


def _key(url):
    """(host name, request target) of an https URL: the target as a client sends it, query included."""
    name, _, target = url.split("://", 1)[1].partition("/")
    return name.split(":")[0].lower(), "/" + target


class DocHost:
    """Routes (host, path) → a JSON document; counts requests and records user agents per (host, path).

    `directory` is kept for the drivers' sake (the CA file now lives with the test origin's run)."""

    def __init__(self, directory, hosts, port=443, bind="127.0.0.1"):
        self.directory = directory
        self.origin = TestOrigin()
        self.ca_file = self.origin.ca_file
        self.listener = self.origin.listen(names=hosts, port=port, ip=bind)

    def start(self):
        return self

    def stop(self):
        self.origin.close()

    def json(self, url, value, max_age=300, status=200):
        """Serves `value` as JSON at the https URL `url`."""
        name, path = _key(url)
        reply = Reply(status, json.dumps(value).encode(),
                      [("Content-Type", "application/json"), ("Cache-Control", f"max-age={max_age}")])
        self.listener.route(path, reply, host=name)

    def count(self, url):
        name, path = _key(url)
        return self.listener.count(path, host=name)

    def user_agents(self, url):
        name, path = _key(url)
        return [r.headers.get("user-agent", "") for r in self.listener.requests(path, host=name)]

    @property
    def agents(self):
        """{(host, path): [User-Agent of each request, in order]}."""
        out = {}
        for r in self.listener.requests():
            out.setdefault((r.host or "", r.path), []).append(r.headers.get("user-agent", ""))
        return out

    def total(self, name):
        """Requests that reached the host name `name`, on any path."""
        return len(self.listener.requests(host=name))
