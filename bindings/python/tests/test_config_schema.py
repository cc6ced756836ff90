"""One configuration schema (docs/contract.md §8): the engine describes its keys once, and this binding reads that
description (tests/docs.rs checks the repository's tables against it)."""

from __future__ import annotations

import pytest

from cimd_engine import ConfigError, Engine, config_schema


def keys() -> list[dict]:
    return config_schema()["keys"]


def test_the_schema_lists_every_key_with_type_default_and_meaning() -> None:
    names = [k["name"] for k in keys()]
    assert len(names) == len(set(names))
    assert {"allow_loopback", "max_json_depth", "max_array_items", "per_host_rate"} <= set(names)
    for key in keys():
        assert key["type"] in {"boolean", "integer", "string", "string_list", "object", "object_list"}
        assert key["title"] and key["description"]
        if key["type"] == "integer":
            assert key["min"] <= key["default"] <= key["max"]


@pytest.mark.parametrize("key", [k["name"] for k in config_schema()["keys"]])
def test_every_key_at_its_default_is_accepted_and_out_of_range_refused(key: str) -> None:
    spec = next(k for k in keys() if k["name"] == key)
    if spec["default"] is not None:
        Engine({key: spec["default"]}).close()
    if spec["type"] == "integer":
        with pytest.raises(ConfigError) as caught:
            Engine({key: spec["max"] + 1})
        assert key in caught.value.description


def test_configuration_errors_name_the_key_path_and_suggest_the_nearest_key() -> None:
    for config, needle in [
        ({"per_host_rate": {"per_minute": 60}}, "per_host_rate.burst: missing"),
        ({"allow_loopback": "yes"}, "allow_loopback: expected a boolean, got a string"),
        ({"max_doc_bytes": 1}, "did you mean max_document_bytes?"),
    ]:
        with pytest.raises(ConfigError) as caught:
            Engine(config)
        assert needle in caught.value.description, caught.value.description


def test_a_host_may_pass_its_own_method_list() -> None:
    Engine({"auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"]}).close()
