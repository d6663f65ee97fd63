"""``ilrs twin``'s verdict tables: the power budget per build-up phase shows generation against the loads by
priority (P1..P5, like the report's table), read back from the rendered text of a verdict built by hand."""

from __future__ import annotations

from rich.console import Console

from ilrs.cli.twin import verdict_tables
from ilrs.station.verdict import Phase, Verdict, WorstEvent


def _phase(name: str, start: str, solar: float, nuclear: float, loads: tuple[float, ...], lost: float) -> Phase:
    gen = solar + nuclear
    return Phase(
        name=name,
        start_utc=start,
        end_utc="",
        generation_kw=gen,
        solar_kw=solar,
        nuclear_kw=nuclear,
        load_kw=loads,
        energy_margin=gen / sum(loads) - 1.0,
        storage_margin=0.25,
        min_state_of_charge=0.4,
        critical_load_lost_h=lost,
        load_lost_h=lost,
    )


def _render(v: Verdict, width: int = 200) -> str:
    console = Console(record=True, width=width, color_system=None, markup=False)  # as the CLI's
    for part in verdict_tables(v):
        console.print(part)
    return console.export_text()


def test_power_budget_shows_each_priority_per_phase():
    """Two phases with distinct loads per priority: each row carries generation, solar, nuclear, P1..P5 as
    given (hand figures) and gen/load = generation / the sum of the five (3.0 / 1.5 = 2.0x; 42.0 / 10.5 = 4.0x)."""
    v = Verdict(
        survives=False,
        critical_load_lost_h=12.0,
        load_lost_h=12.0,
        worst_event=WorstEvent("2031-01-01T00:00", "2031-01-01T12:00", 12.0, 30.0, 2, "the battery at its reserve"),
        phases=(
            _phase("Chang'e 8", "2029-02-01T00:00", 3.0, 0.0, (0.25, 0.5, 0.125, 0.375, 0.25), 12.0),
            _phase("ILRS-1", "2031-06-01T00:00", 2.0, 40.0, (1.5, 2.0, 3.0, 2.5, 1.5), 0.0),
        ),
        dte_contact_h_per_day=7.5,
        relay_contact_h_per_day=20.25,
    )
    text = _render(v)
    assert text.splitlines()[0].startswith("DOES NOT SURVIVE: critical load lost for 12.0 h")
    header = next(line for line in text.splitlines() if line.startswith("phase"))
    assert header.split()[:10] == [
        "phase",
        "from",
        "gen.",
        "solar",
        "nucl.",
        "P1",
        "P2",
        "P3",
        "P4",
        "P5",
    ]
    lines = text.splitlines()
    rows = {
        name: next(ln[len(name) :].split() for ln in lines if ln.startswith(name)) for name in ("Chang'e 8", "ILRS-1")
    }
    assert rows["Chang'e 8"] == [
        "2029-02",
        "3.0",
        "3.0",
        "0.0",
        "0.25",
        "0.50",
        "0.12",
        "0.38",
        "0.25",
        "2.0x",
        "25%",
        "12.0",
    ]
    assert rows["ILRS-1"] == [
        "2031-06",
        "42.0",
        "2.0",
        "40.0",
        "1.50",
        "2.00",
        "3.00",
        "2.50",
        "1.50",
        "4.0x",
        "25%",
        "0.0",
    ]
    assert "…" not in _render(v, 80)  # fits an 80-column terminal without cutting a figure
    assert "[kW]" in text and "P1-P2 are the critical loads" in text and "relay 20.2 h/day" in text


def test_no_phases_still_renders():
    """A run with no build-up phase (no element ever arrives in the period) prints its headline and an empty table."""
    v = Verdict(True, 0.0, 0.0, None, (), 0.0, 0.0)
    text = _render(v)
    assert "SURVIVES" in text and "Power budget" in text
