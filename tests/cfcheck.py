"""The IOOS compliance-checker's CF-1.10 checker, run on a file through its Python API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: compliance-checker's weights: 3 high ("must"), 2 medium ("should"), 1 low ("may")
HIGH = 3


@dataclass(frozen=True)
class CfFinding:
    weight: int
    name: str
    scored: int
    possible: int
    messages: tuple[str, ...]


def cf_check(path: str | Path) -> tuple[int, int, list[CfFinding]]:
    """(points scored, points possible, every check that lost points) of the ``cf:1.10`` checker on a file."""
    from compliance_checker.runner import CheckSuite

    suite = CheckSuite()
    suite.load_all_available_checkers()
    ds = suite.load_dataset(str(path))
    groups, errors = suite.run_all(ds, ["cf:1.10"], skip_checks=[])["cf:1.10"]
    assert not errors, errors  # a checker that crashed checked nothing
    scored = possible = 0
    lost = []
    for r in groups:
        a, b = r.value if isinstance(r.value, tuple) else (int(r.value), 1)
        scored, possible = scored + a, possible + b
        if a < b:
            lost.append(CfFinding(int(r.weight), str(r.name), a, b, tuple(r.msgs)))
    return scored, possible, lost
