"""The result of a resolution: a frozen, typed view of the engine's JSON (docs/contract.md §6, §11.7)."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional, Tuple


class Source(str, enum.Enum):
    """Where an answer came from. A ``str``, so ``client.source == "cache"`` works too."""

    #: Fetched for this request (or confirmed by the client's host with a 304).
    NETWORK = "network"
    #: Served from the cache while fresh.
    CACHE = "cache"
    #: Served from the cache after expiry: while it is revalidated in the background, or while the client's host
    #: fails (stale-if-error).
    STALE = "stale"
    #: Validated from a local document (not produced through the engine's resolve today).
    LOCAL = "local"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class DisplayHost:
    """The client_id's host as a consent screen should show it.

    ``unicode`` is what a person recognises (``bücher.example``); ``ascii`` is the punycode form
    (``xn--bcher-kva.example``). The unicode form is not filtered for look-alike characters: show ``ascii`` next
    to it (or instead) if homographs worry you. Both are lower case and equal for an ASCII host.
    """

    ascii: str
    unicode: str

    def __str__(self) -> str:
        return self.unicode


@dataclass(frozen=True)
class Client:
    """A validated client registration, as resolved by :meth:`Engine.resolve <cimd_engine.Engine.resolve>`.

    Registration fields that the document does not set are None (single values) or empty tuples (lists); the
    engine has already applied every rule, defaults and filters (``grant_types``, ``response_types``) and
    negotiated ``token_endpoint_auth_method``, which the host must enforce on every token request.

    Results are immutable and shared: the binding hands the same object to every caller while the document and
    its freshness stay the same, so treat it as read-only (``raw`` and ``jwks`` return fresh copies).

    >>> client = engine.resolve("https://app.example/client.json")  # doctest: +SKIP
    >>> client.client_name, client.display_host.unicode, client.source  # doctest: +SKIP
    ('Example App', 'app.example', <Source.NETWORK: 'network'>)
    """

    #: The client identifier URL, byte-identical to the one resolved.
    client_id: str
    #: The display name, sanitised for rendering (control and bidi characters removed, bounded length).
    client_name: Optional[str]
    #: The client's home page (https only).
    client_uri: Optional[str]
    #: The client's logo (https only; never ``javascript:`` or ``data:``).
    logo_uri: Optional[str]
    #: Terms of service (https only).
    tos_uri: Optional[str]
    #: Privacy policy (https only).
    policy_uri: Optional[str]
    #: The registered redirect URIs, exactly as written.
    redirect_uris: Tuple[str, ...]
    #: The effective grant types (supported by the host, in document order).
    grant_types: Tuple[str, ...]
    #: The effective response types.
    response_types: Tuple[str, ...]
    #: The effective (negotiated) token endpoint authentication method, e.g. ``"none"``.
    token_endpoint_auth_method: str
    #: Where the client's public keys are published (https).
    jwks_uri: Optional[str]
    #: The scope the client asks for by default.
    scope: Optional[str]
    #: ``"web"`` or ``"native"``.
    application_type: Optional[str]
    #: Contacts for the people responsible for the client.
    contacts: Tuple[str, ...]
    #: Identifier of the client software.
    software_id: Optional[str]
    #: Version of the client software.
    software_version: Optional[str]
    #: Where the client may be sent after logout.
    post_logout_redirect_uris: Tuple[str, ...]
    #: The client_id's host for consent screens.
    display_host: DisplayHost
    #: Warning codes, e.g. ``("localhost_redirects_only",)``.
    warnings: Tuple[str, ...]
    #: The fields that changed from the previous version of this client's document (after a refresh), e.g.
    #: ``("redirect_uris",)``: revoke grants or ask for consent again when they matter to you.
    changed: Tuple[str, ...]
    #: When the document was fetched (UTC).
    fetched_at: datetime
    #: Where this answer came from.
    source: Source
    #: Until when the document is fresh (UTC).
    expires_at: datetime
    #: The document version: equal for two results exactly when they carry the same document.
    generation: int
    _json: str = field(repr=False, compare=False)
    _jwks_json: Optional[str] = field(repr=False, compare=False)

    @property
    def jwks(self) -> Optional[dict[str, Any]]:
        """The client's public keys (a JWK Set), as a new dict on each access; None if the document has none."""
        return None if self._jwks_json is None else json.loads(self._jwks_json)

    @property
    def raw(self) -> dict[str, Any]:
        """Everything the engine returned for this document version, as a new dict on each access:
        ``{"client": {...}, "warnings": [...], "changed": [...], "fetched_at": "...", "generation": N}``.
        ``client`` holds the registration fields that are present (absent ones are omitted) plus
        ``display_host``. Use it for fields this binding does not type yet."""
        value: dict[str, Any] = json.loads(self._json)
        return value


def decode(document_json: str) -> dict[str, Any]:
    """Turns the engine's JSON for one document version into the constructor arguments of :class:`Client`
    that do not change while the version stays the same (all but ``source`` and ``expires_at``)."""
    document = json.loads(document_json)
    client = document["client"]
    host = client["display_host"]
    jwks = client.get("jwks")
    return {
        "client_id": client["client_id"],
        "client_name": client.get("client_name"),
        "client_uri": client.get("client_uri"),
        "logo_uri": client.get("logo_uri"),
        "tos_uri": client.get("tos_uri"),
        "policy_uri": client.get("policy_uri"),
        "redirect_uris": tuple(client.get("redirect_uris", ())),
        "grant_types": tuple(client.get("grant_types", ())),
        "response_types": tuple(client.get("response_types", ())),
        "token_endpoint_auth_method": client["token_endpoint_auth_method"],
        "jwks_uri": client.get("jwks_uri"),
        "scope": client.get("scope"),
        "application_type": client.get("application_type"),
        "contacts": tuple(client.get("contacts", ())),
        "software_id": client.get("software_id"),
        "software_version": client.get("software_version"),
        "post_logout_redirect_uris": tuple(client.get("post_logout_redirect_uris", ())),
        "display_host": DisplayHost(ascii=host["ascii"], unicode=host["unicode"]),
        "warnings": tuple(document.get("warnings", ())),
        "changed": tuple(document.get("changed", ())),
        "fetched_at": _parse_rfc3339(document["fetched_at"]),
        "generation": int(document["generation"]),
        "_json": document_json,
        "_jwks_json": None if jwks is None else json.dumps(jwks),
    }


def _parse_rfc3339(text: str) -> datetime:
    # The engine writes UTC with a "Z" suffix and second precision; fromisoformat before Python 3.11 wants +00:00.
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def from_unix_ms(ms: int) -> datetime:
    """An engine timestamp (milliseconds since the Unix epoch) as an aware UTC datetime."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
