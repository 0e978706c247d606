"""Reference-driven tests build their cases from files and reference.json entries; this check makes a
deleted reference fail a test instead of silently dropping a case."""
from __future__ import annotations

from collections.abc import Iterable


def assert_expected_cases(found: Iterable[str], expected: Iterable[str], where: str) -> None:
    """``found``: the ids the test collected; ``expected``: the ids written down in the test."""
    found, expected = list(found), list(expected)
    missing = sorted(set(expected) - set(found))
    unlisted = sorted(set(found) - set(expected))
    assert len(found) == len(expected) and not missing and not unlisted, (
        f"{where}: found {len(found)} reference cases, expected {len(expected)}; "
        f"missing (restore the reference file or its reference.json entry): {missing}; "
        f"not listed (add it to the expected list): {unlisted}")
