"""The built-in scenario cut to July 2034 at 1-hour steps, every element arrived at the start: the twin's full
set of flows (solar, fission, batteries, DTE and relay links, storage) at a small cost."""

from __future__ import annotations

from pathlib import Path

from ilrs.scenario.load import BUILTIN_DIR


def write_month_scenario(path: Path) -> Path:
    text = (BUILTIN_DIR / "ilrs-basic-2035.toml").read_text().split("# ---- The roadmap")[0]
    text = text.replace("start = 2028-01-01", "start = 2034-07-01").replace("end = 2036-01-01", "end = 2034-08-01")
    text = text.replace('step = "10m"', 'step = "1h"')
    for old in ("2029-02-01", "2031-06-01", "2032-06-01", "2033-06-01", "2033-12-01", "2034-06-01", "2035-06-01"):
        text = text.replace(f"arrival = {old}", "arrival = 2034-07-01")
    path.write_text(text)
    return path
