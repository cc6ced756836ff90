"""The engine: a thin, thread-safe wrapper around one ``cimd_engine`` handle of the C ABI."""

from __future__ import annotations

import ctypes
import json
import math
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Mapping
from ctypes import byref, c_size_t, c_uint64, c_void_p
from typing import Any, Optional

from . import _client, _native
from ._client import Client, Source
from ._errors import CimdError, ConfigError, TemporarilyUnavailable, family

_lib = _native.blocking
_quick = _native.quick
_resolve = _native.resolve_untyped
_ZERO = c_size_t(0)
_NO_DEADLINE = c_uint64(0)  # the ABI's "no per-call deadline": the configured fetch_timeout_ms applies
_generation = _quick.cimd_result_generation
_source = _quick.cimd_result_source
_expires_at = _quick.cimd_result_expires_at_unix_ms
_result_free = _quick.cimd_result_free

# Bound on the decoded results kept by one engine when the configuration does not set cache_max_entries (the
# engine's own default, so the binding never keeps more clients than the engine caches).
_DEFAULT_DECODED_MAX = 10_000

# Every live engine, so that a forked child can reset their Python-side locks (see _reset_after_fork).
_live_engines: "weakref.WeakSet[Engine]" = weakref.WeakSet()


class Engine:
    """Resolves URL client_ids (OAuth Client ID Metadata Documents) through the cimd engine.

    One engine holds one configuration, one cache and one I/O runtime: create one per process (or per
    configuration) and share it between all threads. Every call but :meth:`close` may run in any number of
    threads at once; a blocking :meth:`resolve` releases the GIL while it waits for the network, and concurrent
    resolves of one client_id share a single fetch. An engine created before ``fork()`` keeps working in the
    child (gunicorn's pre-fork model): the child inherits the cache.

    ``config`` takes the configuration keys every cimd front end shares (docs/contract.md §8), validated by the
    engine; ``None`` or ``{}`` gives the production defaults. An unknown key, a wrong type or an out-of-range
    value raises :class:`~cimd_engine.ConfigError`.

    >>> from cimd_engine import Engine
    >>> with Engine({"auth_methods_supported": ["none", "private_key_jwt"]}) as engine:
    ...     engine.discovery_metadata()["token_endpoint_auth_methods_supported"]
    ['none', 'private_key_jwt']
    """

    def __init__(self, config: Optional[Mapping[str, Any]] = None) -> None:
        if config is not None and not isinstance(config, Mapping):
            raise TypeError(f"config must be a mapping or None, not {type(config).__name__}")
        text = json.dumps(dict(config or {})).encode()
        handle = c_void_p()
        error = c_void_p()
        status = _lib.cimd_engine_new(text, len(text), byref(handle), byref(error))
        if status != _native.OK:
            raise _failure(status, error)
        self._handle: Optional[c_void_p] = handle
        # Calls in flight: each call appends before it reads the handle and pops when it returns, so close() can
        # wait for them (deque.append and pop are atomic, and far cheaper than a lock on the cache-hit path).
        self._active: deque[None] = deque()
        self._close_lock = threading.Lock()
        self._decoded: dict[str, tuple[int, dict[str, Any], tuple[int, int], Client]] = {}
        max_entries = (config or {}).get("cache_max_entries", _DEFAULT_DECODED_MAX)
        self._decoded_max = max_entries if isinstance(max_entries, int) else _DEFAULT_DECODED_MAX
        # A safety net for engines that are never closed. Not at interpreter exit: daemon threads may still be
        # inside a call then, and the process is about to release everything anyway.
        self._finalizer = weakref.finalize(self, _free_engine, handle)
        self._finalizer.atexit = False
        _live_engines.add(self)

    # -- lifetime -----------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Releases the engine. Waits for calls still running in other threads, then frees the cache and the
        I/O runtime. Further calls raise ``RuntimeError``; closing twice does nothing."""
        with self._close_lock:
            handle, self._handle = self._handle, None
        while self._active:  # a call that started before the handle was cleared is still running
            time.sleep(0.001)
        self._decoded.clear()
        if handle is not None:
            self._finalizer.detach()
            _free_engine(handle)

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else "open"
        return f"<cimd_engine.Engine {state}>"

    def _enter(self) -> c_void_p:
        """Registers a call in flight and returns the handle; pair with ``self._active.pop()``."""
        self._active.append(None)
        handle = self._handle
        if handle is None:
            self._active.pop()
            raise RuntimeError("this cimd_engine.Engine has been closed")
        return handle

    # -- resolving ----------------------------------------------------------------------------------------------

    def resolve(self, client_id: str, redirect_uri: Optional[str] = None, timeout: Optional[float] = None) -> Client:
        """Resolves a URL client_id into a validated registration, from the cache when fresh, else by fetching
        and validating its document; checks ``redirect_uri`` (the authorization request's) when given.

        ``timeout`` (seconds) can only shorten the configured ``fetch_timeout_ms``; a cache hit returns at once.
        Blocks the calling thread (not the GIL) until the answer.

        Raises :class:`~cimd_engine.ClientRejected`, :class:`~cimd_engine.RedirectUriMismatch` or
        :class:`~cimd_engine.TemporarilyUnavailable` (all :class:`~cimd_engine.CimdError`).

        >>> client = engine.resolve(  # doctest: +SKIP
        ...     "https://app.example/client.json", redirect_uri="https://app.example/callback")
        >>> client.client_name, client.token_endpoint_auth_method  # doctest: +SKIP
        ('Example App', 'none')
        """
        # The cache-hit path is a few ctypes calls; everything here is kept inline to stay out of its way.
        # Arguments go to the untyped cimd_resolve as the exact types of its prototype (see _native).
        cid = _utf8(client_id, "client_id")
        if redirect_uri is None:
            uri, uri_len = None, _ZERO
        else:
            uri = _utf8(redirect_uri, "redirect_uri")
            uri_len = c_size_t(len(uri))
        deadline = _NO_DEADLINE if timeout is None else c_uint64(_timeout_ms(timeout))
        out = _out
        active = self._active
        active.append(None)
        try:
            handle = self._handle
            if handle is None:
                raise RuntimeError("this cimd_engine.Engine has been closed")
            status = _resolve(handle, cid, c_size_t(len(cid)), uri, uri_len, deadline, out.result_ref, out.error_ref)
        finally:
            active.pop()
        if status:
            raise _failure(status, out.error)
        return self._client(client_id, out)

    def probe(self, client_id: str) -> Optional[Client]:
        """The cached answer for a client_id without any I/O (and without starting a refresh), or None when a
        resolve would have to fetch. No redirect_uri check: use :meth:`resolve` for authorization requests.

        >>> engine.probe("https://app.example/client.json") is None  # doctest: +SKIP
        True
        """
        cid = _utf8(client_id, "client_id")
        out = _out
        handle = self._enter()
        try:
            status = _lib.cimd_probe(handle, cid, len(cid), out.result_ref)
        finally:
            self._active.pop()
        if status == _native.NOT_FOUND:
            return None
        if status != _native.OK:
            raise _failure(status, c_void_p())
        return self._client(client_id, out)

    def refresh(self, client_id: str, timeout: Optional[float] = None) -> Client:
        """Fetches a client's document again now, whatever its freshness (conditionally when the cache holds
        validators). For operators. A changed document gets a new ``generation`` and lists the changed fields in
        ``changed``. Raises like :meth:`resolve`.

        >>> engine.refresh("https://app.example/client.json").changed  # doctest: +SKIP
        ('redirect_uris',)
        """
        cid = _utf8(client_id, "client_id")
        deadline = _timeout_ms(timeout)
        out = _out
        handle = self._enter()
        try:
            status = _lib.cimd_refresh(handle, cid, len(cid), deadline, out.result_ref, out.error_ref)
        finally:
            self._active.pop()
        if status != _native.OK:
            raise _failure(status, out.error)
        return self._client(client_id, out)

    def invalidate(self, client_id: str) -> bool:
        """Forgets the cached document of one client_id, so that the next resolve fetches it again. Returns
        whether there was one. Never does I/O.

        >>> engine.invalidate("https://app.example/client.json")  # doctest: +SKIP
        True
        """
        cid = _utf8(client_id, "client_id")
        handle = self._enter()
        try:
            status = _lib.cimd_invalidate(handle, cid, len(cid))
        finally:
            self._active.pop()
        self._decoded.pop(client_id, None)
        if status == _native.NOT_FOUND:
            return False
        if status != _native.OK:
            raise _failure(status, c_void_p())
        return True

    # -- operators ----------------------------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """The engine's counters: ``hits``, ``misses``, ``fetches``, ``not_modified``, ``coalesced_waits``,
        ``stale_served``, ``background_refreshes``, ``evictions``, ``invalidations``, ``entries``,
        ``cache_bytes`` and ``failures`` (error code → count).

        >>> Engine().stats()["fetches"]
        0
        """
        value: dict[str, Any] = self._json_call(_lib.cimd_stats_json)
        return value

    def entries(self) -> list[dict[str, Any]]:
        """The cache entries, for operators: one dict per client_id with ``client_id``, ``state`` (``fresh``,
        ``stale``, ``expired``), ``fetched_at``, ``confirmed_at``, ``expires_at``, ``generation``, ``etag``,
        ``bytes``, ``client_name`` and ``changed``.

        >>> Engine().entries()
        []
        """
        value: list[dict[str, Any]] = self._json_call(_lib.cimd_entries_json)
        return value

    def discovery_metadata(self) -> dict[str, Any]:
        """The fields to add to the server's authorization-server metadata (RFC 8414 / OpenID discovery) so
        that clients know they may use URL client_ids (docs/contract.md §10).

        >>> Engine().discovery_metadata()["client_id_metadata_document_supported"]
        True
        """
        value: dict[str, Any] = self._json_call(_lib.cimd_discovery_json)
        return value

    def _json_call(self, function: Any) -> Any:
        buffer = _native.cimd_bytes()
        handle = self._enter()
        try:
            status = function(handle, byref(buffer))
        finally:
            self._active.pop()
        if status != _native.OK:
            raise _failure(status, c_void_p())
        return json.loads(_native.take_bytes(buffer))

    # -- results ------------------------------------------------------------------------------------------------

    def _client(self, client_id: str, out: "_OutParams") -> Client:
        """Turns the result handle in ``out`` into a :class:`Client` and frees the handle.

        The engine's JSON is decoded once per document version (``generation``): while it stays the same, the
        decoded fields are reused, and while source and expiry stay the same too, the very same ``Client`` is
        returned, so a cache hit costs no JSON parsing and no object construction.
        """
        result = out.result
        try:
            generation = _generation(result)
            per_call = (_source(result), _expires_at(result))
            known = self._decoded.get(client_id)
            if known is not None and known[0] == generation:
                if known[2] == per_call:
                    return known[3]
                fields = known[1]
            else:
                fields = _client.decode(_result_json(result))
        finally:
            _result_free(out.result_ref)
        source_name = _native.source_name(per_call[0])
        client = Client(
            **fields,
            source=Source(source_name) if source_name else Source.NETWORK,
            expires_at=_client.from_unix_ms(per_call[1]),
        )
        decoded = self._decoded
        if known is None and len(decoded) >= self._decoded_max:
            # Forget the oldest entry: a client still in use is decoded again on its next resolve.
            try:
                decoded.pop(next(iter(decoded)), None)
            except (StopIteration, RuntimeError):  # emptied or resized by another thread meanwhile
                pass
        decoded[client_id] = (generation, fields, per_call, client)
        return client


class _OutParams(threading.local):
    """Out-parameters for the calls that return a result or an error, one pair per thread and reused, so that a
    cache hit allocates no ctypes objects. The C ABI writes them only on success (result) or refusal (error), and
    every handle written is freed at once, which sets the pointer back to NULL."""

    def __init__(self) -> None:
        self.result = c_void_p()
        self.error = c_void_p()
        self.result_ref = byref(self.result)
        self.error_ref = byref(self.error)


_out = _OutParams()


def _result_json(result: c_void_p) -> str:
    data = c_void_p()
    length = c_size_t()
    status = _quick.cimd_result_json(result, byref(data), byref(length))
    if status != _native.OK:
        raise _failure(status, c_void_p())
    return ctypes.string_at(data, length.value).decode()


def config_schema() -> dict[str, Any]:
    """The engine's own description of every configuration key (docs/contract.md §8): ``{"keys": [...]}``,
    each with ``name``, ``title``, ``type``, ``default``, ``description`` and, where they apply, ``min``,
    ``max``, ``unit``, ``values`` and ``fields``. The same as ``cimd config-schema``.

    >>> "max_json_depth" in [key["name"] for key in config_schema()["keys"]]
    True
    """
    buffer = _native.cimd_bytes()
    status = _quick.cimd_config_schema_json(byref(buffer))
    if status != _native.OK:
        raise _failure(status, c_void_p())
    value: dict[str, Any] = json.loads(_native.take_bytes(buffer))
    return value


def _free_engine(handle: c_void_p) -> None:
    _lib.cimd_engine_free(byref(handle))


def _utf8(value: str, name: str) -> bytes:
    if type(value) is not str and not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    return value.encode()


def _timeout_ms(timeout: Optional[float]) -> int:
    if timeout is None:
        return 0  # the ABI's "no per-call deadline": the configured fetch_timeout_ms applies
    if not (timeout > 0 and math.isfinite(timeout)):
        raise ValueError(f"timeout must be a positive number of seconds or None, not {timeout!r}")
    return max(1, math.ceil(timeout * 1000))


def _failure(status: int, error: c_void_p) -> Exception:
    """The exception for a failed call; frees the error object if there is one."""
    if not error:
        if status == _native.PANIC:
            return TemporarilyUnavailable(
                "internal", "a bug inside cimd was stopped at its boundary; please report it", "server_error", True
            )
        if status == _native.INVALID_UTF8:
            return ValueError("a string argument is not valid UTF-8")
        return RuntimeError(f"cimd call failed with status {_native.status_name(status)}")
    try:
        data = c_void_p()
        length = c_size_t()
        described = _quick.cimd_error_message(error, byref(data), byref(length)) == _native.OK
        description = ctypes.string_at(data, length.value).decode() if described else ""
        if _quick.cimd_error_status(error) == _native.CONFIG_ERROR:
            return ConfigError("config_error", description)
        code = _native.code_name(_quick.cimd_error_code(error)) or "internal"
        oauth = _quick.cimd_error_oauth_error(error)
        transient = bool(_quick.cimd_error_is_transient(error))
        return family(code, transient)(code, description, oauth.decode() if oauth else None, transient)
    finally:
        _quick.cimd_error_free(byref(error))


def _reset_after_fork() -> None:
    # Only the forking thread exists in the child: calls that other threads had in flight at fork time will never
    # finish there, and a lock they held would never be released. The C ABI itself restarts its I/O threads on first need.
    for engine in list(_live_engines):
        engine._active.clear()
        engine._close_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)

