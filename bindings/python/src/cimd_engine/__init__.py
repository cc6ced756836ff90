"""cimd_engine: resolve OAuth Client ID Metadata Documents (URL client_ids) from Python.

A thin, typed binding over the C ABI of the cimd engine (Rust). Every rule (client_id URL rules, SSRF-safe
fetch, document validation, redirect_uri matching, HTTP-aware caching) runs in the engine; this package only
converts arguments and results.

>>> from cimd_engine import Engine, ClientRejected
>>> with Engine() as engine:
...     try:
...         engine.resolve("https://127.0.0.1/client.json")
...     except ClientRejected as error:
...         print(error.code)
invalid_client_id_url

Typical use in an authorization endpoint::

    engine = Engine({"auth_methods_supported": ["none", "private_key_jwt"]})

    try:
        client = engine.resolve(client_id, redirect_uri=redirect_uri)
    except RedirectUriMismatch as error:
        return error_page(error.description)            # never redirect
    except TemporarilyUnavailable:
        return error_page("try again later", status=503)
    except ClientRejected as error:
        return error_page(error.description, status=400)
    return consent_page(client.client_name, client.display_host.unicode)
"""

from ._client import Client, DisplayHost, Source
from ._engine import Engine, config_schema
from ._errors import ClientRejected, CimdError, ConfigError, RedirectUriMismatch, TemporarilyUnavailable
from ._native import ABI_VERSION

__version__ = "0.1.0"

__all__ = [
    "ABI_VERSION",
    "CimdError",
    "Client",
    "ClientRejected",
    "ConfigError",
    "DisplayHost",
    "Engine",
    "RedirectUriMismatch",
    "Source",
    "TemporarilyUnavailable",
    "config_schema",
]
