"""The examples in the package's docstrings run and show what they say."""

from __future__ import annotations

import doctest

import pytest

import cimd_engine
from cimd_engine import _client, _engine, _errors


@pytest.mark.parametrize("module", [cimd_engine, _client, _engine, _errors], ids=lambda m: m.__name__)
def test_docstring_examples(module) -> None:
    outcome = doctest.testmod(module, extraglobs={"Engine": cimd_engine.Engine}, optionflags=doctest.ELLIPSIS)

    assert outcome.failed == 0
    assert module is _client or outcome.attempted > 0
