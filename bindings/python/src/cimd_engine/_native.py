"""The C ABI of cimd (``include/cimd.h``), declared for ctypes.

This module only loads the shared library and states the prototypes; it holds no logic. Every rule of
client_id resolution lives in the Rust engine behind these functions.

Two views of one library, because the functions differ in what they do with the calling thread:

- ``blocking`` (a ``ctypes.CDLL``) releases the GIL around each call. It serves every call that may wait: for the
  network (``cimd_resolve``, ``cimd_refresh``), for the engine's locks, or for the engine's shutdown.
- ``quick`` (a ``ctypes.PyDLL`` over the same loaded library) keeps the GIL. It serves the accessors of
  immutable result and error objects, which read a field and return in nanoseconds: for them, releasing and
  re-taking the GIL would cost more than the call itself, and they never wait for anything, so holding the GIL
  blocks no other thread for longer than a Python bytecode would.
"""

from __future__ import annotations

import ctypes
import os
import sys
from ctypes import POINTER, c_bool, c_char_p, c_int64, c_size_t, c_uint32, c_uint64, c_void_p
from pathlib import Path
from typing import Any

#: The major version of the C ABI this binding was written against (``CIMD_ABI_VERSION_MAJOR``).
ABI_MAJOR = 1

#: Environment variable naming a libcimd to load instead of the one shipped in the wheel (for developers who
#: rebuild the Rust library and want to test it without reinstalling).
LIBRARY_ENV = "CIMD_ENGINE_LIBRARY"

# cimd_status
OK = 0
INVALID_ARGUMENT = 1
INVALID_UTF8 = 2
INVALID_HANDLE = 3
CONFIG_ERROR = 4
REJECTED = 5
NOT_FOUND = 6
PANIC = 7


#: cimd_resolve without argtypes, for the cache-hit path (see _load).
resolve_untyped: Any


class cimd_bytes(ctypes.Structure):
    """``struct cimd_bytes``: ``len`` bytes of UTF-8 at ``data``, owned by the caller until cimd_bytes_free."""

    _fields_ = [("data", c_void_p), ("len", c_size_t)]


_engine_p = c_void_p
_result_p = c_void_p
_error_p = c_void_p
_out_p = POINTER(c_void_p)


def _library_file_name() -> str:
    if sys.platform == "darwin":
        return "libcimd.dylib"
    if sys.platform == "win32":
        return "cimd.dll"
    return "libcimd.so"


def library_path() -> str:
    """The path of the shared library this process loads: ``$CIMD_ENGINE_LIBRARY`` if set, else the copy
    shipped inside this package."""
    override = os.environ.get(LIBRARY_ENV)
    if override:
        return override
    return str(Path(__file__).with_name(_library_file_name()))


def _declare(lib: ctypes.CDLL, name: str, restype: object, *argtypes: object) -> None:
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)


def _load() -> tuple[ctypes.CDLL, ctypes.PyDLL]:
    path = library_path()
    try:
        blocking = ctypes.CDLL(path)
    except OSError as exc:
        raise ImportError(
            f"cimd_engine: cannot load the cimd library at {path} ({exc}); reinstall the package, or point "
            f"{LIBRARY_ENV} at a libcimd built with `cargo build --release`"
        ) from exc
    quick = ctypes.PyDLL(path)

    _declare(blocking, "cimd_abi_version", c_uint32)
    version = blocking.cimd_abi_version()
    if version >> 16 != ABI_MAJOR:
        raise ImportError(
            f"cimd_engine: {path} has C ABI {version >> 16}.{(version >> 8) & 0xFF}.{version & 0xFF}, "
            f"but this binding needs major version {ABI_MAJOR}"
        )

    # Names: static strings, never freed.
    for name in ("cimd_status_name", "cimd_code_name", "cimd_source_name"):
        _declare(quick, name, c_char_p, c_uint32)

    # The engine and the calls that may wait (GIL released).
    _declare(blocking, "cimd_engine_new", c_uint32, c_char_p, c_size_t, _out_p, _out_p)
    _declare(blocking, "cimd_engine_free", None, _out_p)
    _declare(blocking, "cimd_invalidate", c_uint32, _engine_p, c_char_p, c_size_t)
    _declare(blocking, "cimd_stats_json", c_uint32, _engine_p, POINTER(cimd_bytes))
    _declare(blocking, "cimd_discovery_json", c_uint32, _engine_p, POINTER(cimd_bytes))
    _declare(blocking, "cimd_entries_json", c_uint32, _engine_p, POINTER(cimd_bytes))
    _declare(quick, "cimd_config_schema_json", c_uint32, POINTER(cimd_bytes))
    _declare(
        blocking,
        "cimd_resolve",
        c_uint32,
        _engine_p,
        c_char_p,
        c_size_t,
        c_char_p,
        c_size_t,
        c_uint64,
        _out_p,
        _out_p,
    )
    _declare(blocking, "cimd_probe", c_uint32, _engine_p, c_char_p, c_size_t, _out_p)
    # The cache-hit path calls cimd_resolve through a second function object without argtypes: converting eight
    # arguments through their declared types costs more than the engine's whole cache lookup. Its one caller
    # (Engine.resolve) passes every argument as the exact ctypes type of the prototype above instead.
    global resolve_untyped
    resolve_untyped = blocking["cimd_resolve"]
    resolve_untyped.restype = c_uint32
    _declare(blocking, "cimd_refresh", c_uint32, _engine_p, c_char_p, c_size_t, c_uint64, _out_p, _out_p)

    # Accessors of immutable objects, and their release (GIL kept: see the module docstring).
    _declare(quick, "cimd_result_json", c_uint32, _result_p, POINTER(c_void_p), POINTER(c_size_t))
    _declare(quick, "cimd_result_generation", c_uint64, _result_p)
    _declare(quick, "cimd_result_source", c_uint32, _result_p)
    _declare(quick, "cimd_result_expires_at_unix_ms", c_int64, _result_p)
    _declare(quick, "cimd_result_free", None, _out_p)
    _declare(quick, "cimd_error_status", c_uint32, _error_p)
    _declare(quick, "cimd_error_code", c_uint32, _error_p)
    _declare(quick, "cimd_error_message", c_uint32, _error_p, POINTER(c_void_p), POINTER(c_size_t))
    _declare(quick, "cimd_error_oauth_error", c_char_p, _error_p)
    _declare(quick, "cimd_error_is_transient", c_bool, _error_p)
    _declare(quick, "cimd_error_free", None, _out_p)
    _declare(quick, "cimd_bytes_free", None, POINTER(cimd_bytes))
    return blocking, quick


blocking, quick = _load()

#: The ABI version of the loaded library, as ``(major, minor, patch)``.
ABI_VERSION = (
    blocking.cimd_abi_version() >> 16,
    (blocking.cimd_abi_version() >> 8) & 0xFF,
    blocking.cimd_abi_version() & 0xFF,
)


def status_name(status: int) -> str:
    """The snake_case name of a status (``"rejected"``), or ``"status_N"`` for a number this library lacks."""
    name = quick.cimd_status_name(status)
    return name.decode() if name else f"status_{status}"


def code_name(code: int) -> str | None:
    """The snake_case name of an error code (``"blocked_address"``), or None for CIMD_CODE_NONE."""
    name = quick.cimd_code_name(code)
    return name.decode() if name else None


def source_name(source: int) -> str | None:
    """The name of a result source (``"cache"``), or None for CIMD_SOURCE_NONE."""
    name = quick.cimd_source_name(source)
    return name.decode() if name else None


def take_bytes(buffer: cimd_bytes) -> bytes:
    """Copies an owned ``cimd_bytes`` buffer into Python and releases it."""
    try:
        return ctypes.string_at(buffer.data, buffer.len)
    finally:
        quick.cimd_bytes_free(ctypes.byref(buffer))
