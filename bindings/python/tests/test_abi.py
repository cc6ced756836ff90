"""The binding against the C header: it declares exactly the functions of include/cimd.h, and its numbers for
statuses match the header's, so a change of the C ABI cannot slip past the binding unnoticed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cimd_engine import _native

HEADER = Path(__file__).resolve().parents[3] / "include" / "cimd.h"
# Test-only exports (e.g. cimd_test_panic behind a cargo feature) are not part of the binding.
TEST_ONLY = re.compile(r"^cimd_test_")


@pytest.fixture(scope="module")
def header() -> str:
    if not HEADER.is_file():
        pytest.skip(f"no header at {HEADER} (tests run from a cimd checkout)")
    return HEADER.read_text()


def test_every_header_function_is_declared_and_no_other(header: str) -> None:
    in_header = {n for n in re.findall(r"\b(cimd_\w+)\s*\(", header) if not TEST_ONLY.match(n)}
    source = Path(_native.__file__).read_text()
    named_in_binding = set(re.findall(r'"(cimd_\w+)"', source))

    assert in_header - named_in_binding == set(), "functions in cimd.h that the binding does not declare"
    assert named_in_binding - in_header == set(), "functions the binding declares that cimd.h lacks"


def test_status_numbers_match_the_header(header: str) -> None:
    for name in ("OK", "INVALID_ARGUMENT", "INVALID_UTF8", "INVALID_HANDLE", "CONFIG_ERROR", "REJECTED",
                 "NOT_FOUND", "PANIC"):
        number = re.search(rf"CIMD_STATUS_{name} = (\d+)", header)
        assert number and int(number.group(1)) == getattr(_native, name), name


def test_abi_major_matches_the_header(header: str) -> None:
    major = re.search(r"#define CIMD_ABI_VERSION_MAJOR (\d+)", header)
    assert major and int(major.group(1)) == _native.ABI_MAJOR
