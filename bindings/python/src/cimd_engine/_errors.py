"""The exceptions: one base class with the engine's error code, and one subclass per way a server reacts."""

from __future__ import annotations

from typing import Optional


class CimdError(Exception):
    """A client_id could not be resolved, or an engine could not be built.

    Every error carries the engine's stable error code (docs/contract.md §7, the same string in every cimd front
    end), a description that names the broken rule, and the OAuth 2.0 error a server should answer with.
    Catch the subclass that matches what your server does next:

    - :class:`RedirectUriMismatch`: show an error page; never redirect to the requested redirect_uri.
    - :class:`TemporarilyUnavailable`: the failure says nothing about the client (DNS, connect, TLS, timeout,
      the engine's own rate limits); answer ``temporarily_unavailable`` and let the user retry.
    - :class:`ClientRejected`: the client is not acceptable; answer :attr:`oauth_error` (``invalid_client``, or
      ``unauthorized_client`` when it shares no authentication method with the server).
    - :class:`ConfigError`: the engine's configuration was refused (raised by :class:`~cimd_engine.Engine`).

    >>> from cimd_engine import Engine, CimdError
    >>> with Engine() as engine:
    ...     try:
    ...         engine.resolve("http://app.example/client.json")
    ...     except CimdError as error:
    ...         print(error.code, error.oauth_error)
    invalid_client_id_url invalid_client
    """

    #: The engine's error code, e.g. ``"blocked_address"`` (``"config_error"`` for a :class:`ConfigError`).
    code: str
    #: A sentence naming the broken rule, e.g. "client_id URL has a dot segment (URL-06)". For logs and error
    #: pages (escape it for HTML).
    description: str
    #: The OAuth 2.0 error for the host's answer (``"invalid_client"``, ``"unauthorized_client"``, ``"invalid_request"``,
    #: ``"temporarily_unavailable"``, ``"server_error"``); None for a configuration error.
    oauth_error: Optional[str]
    #: True when the failure says nothing about the client and may pass (a retry may succeed).
    transient: bool

    def __init__(self, code: str, description: str, oauth_error: Optional[str], transient: bool = False) -> None:
        super().__init__(code, description, oauth_error)
        self.code = code
        self.description = description
        self.oauth_error = oauth_error
        self.transient = transient

    def __str__(self) -> str:
        return f"{self.code}: {self.description}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, description={self.description!r})"

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # Exceptions cross process boundaries (multiprocessing, concurrent.futures): keep every field.
        return (type(self), (self.code, self.description, self.oauth_error, self.transient))


class ClientRejected(CimdError):
    """The client is not acceptable: a bad client_id URL, a refused host or address, a bad answer from the
    client's host, or an invalid document. Answer :attr:`CimdError.oauth_error`: ``invalid_client``, or
    ``unauthorized_client`` for ``unsupported_auth_method`` (draft -03 §6)."""


class RedirectUriMismatch(CimdError):
    """The authorization request's redirect_uri is not registered in the client's document.

    Show an error page to the user and never redirect to that URI (RFC 6749 §4.1.2.1):

    >>> from cimd_engine import RedirectUriMismatch
    >>> issubclass(RedirectUriMismatch, CimdError)
    True
    """


class TemporarilyUnavailable(CimdError):
    """The document could not be fetched for a reason that says nothing about the client (DNS, connection,
    TLS, timeout, the engine's own rate limits, or an internal error). A retry may succeed."""


class ConfigError(CimdError, ValueError):
    """The engine refused its configuration: an unknown key, a wrong type, an out-of-range value, an unreadable
    ``extra_ca_file``. The description names the key.

    >>> from cimd_engine import Engine, ConfigError
    >>> try:
    ...     Engine({"max_document_bytes": "big"})
    ... except ConfigError as error:
    ...     print(error.code)
    config_error
    """

    def __init__(self, code: str, description: str, oauth_error: Optional[str] = None, transient: bool = False):
        super().__init__(code, description, oauth_error, transient)


def family(code: str, transient: bool) -> type[CimdError]:
    """The exception class for an engine error: the redirect_uri mismatch, the failures the engine calls
    transient, and every other refusal of the client."""
    if code == "redirect_uri_mismatch":
        return RedirectUriMismatch
    if transient:
        return TemporarilyUnavailable
    return ClientRejected
