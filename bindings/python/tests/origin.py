"""The binding's tests' view of the test origin (tests/origin/: one program, with one throwaway CA per run, that
the tests of every language start; conftest.py starts it once per session).

It plays the client's host: a listener serves client metadata documents (or deliberately broken answers) at paths
the tests script, and counts the requests it receives, so a test can prove that the engine fetched exactly once.

Network safety: the origin listens on 127.0.0.1 (and on [::1] with the same port when that exists) and nowhere else.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "origin"))
from testorigin import Listener, OriginError, Reply, Request, TestOrigin  # noqa: E402

__all__ = ["NAMES", "Origin", "OriginError", "Reply", "Request", "TestOrigin", "document"]

#: The names the test certificates cover. Inside scripts/netns with tests/hosts they resolve to 127.0.0.1.
NAMES = ("localhost", "client.test")


class Origin(Listener):
    """An HTTPS (or plain HTTP) listener of the test origin. ``route()`` scripts a path; ``hits()`` counts requests.

    ``tls`` is "trusted" (a certificate from the run's CA, which ``ca_file`` holds), "plain", or one of the
    origin's broken certificates ("foreign": a CA that nothing trusts, "expired", ...)."""

    def __init__(self, program: TestOrigin, tls: str = "trusted", port: int = 0, names: Sequence[str] = NAMES) -> None:
        opened = program.listen(tls=tls, names=names, port=port, also_v6=True)
        super().__init__(program, opened.id, opened.port, opened.scheme)
        self.ca_file = program.ca_file

    def serve_document(self, path: str, host: str = "localhost", **fields: object) -> str:
        """Serves a minimal valid document at ``path`` (fields override or extend it); returns its client_id."""
        client_id = self.url(path, host)
        self.route(path, Reply.json(document(client_id, **fields)))
        return client_id

    def hits(self, path: str) -> int:
        return self.count(path)

    def stop(self) -> None:
        self.close()


def document(client_id: str, **fields: object) -> dict:
    """A minimal valid client metadata document for ``client_id``; keyword arguments override or add fields
    (a value of None removes the field)."""
    doc: dict = {
        "client_id": client_id,
        "client_name": "Test Client",
        "redirect_uris": ["https://app.example/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }
    for key, value in fields.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc
