"""``ilrs plan [SCENARIO] --requests FILE``: plan partner activities against the station twin's limits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import typer
from rich.table import Table

from ilrs.cli.common import console, handle_errors, output_file, print_json, progress_bar, styled
from ilrs.errors import IlrsError
from ilrs.scenario.schema import Event


def _event(text: str | None) -> Event | None:
    """The ``--event`` option: a JSON object, or a .json file holding one, checked as a scenario event."""
    from ilrs.services.plan import parse_event

    if text is None:
        return None
    # JSON text is an object, so it starts with "{"; anything else names a file
    is_text = text.lstrip().startswith("{")
    p = Path(text)
    if not is_text and not p.is_file():
        raise IlrsError(
            f"no event file {text!r}" + (" (it is a directory)" if p.is_dir() else ""),
            source="--event",
            hint="give an existing .json file, or the event as JSON text starting with '{'",
        )
    try:
        raw = text if is_text else p.read_text(encoding="utf-8")
        ev = json.loads(raw)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IlrsError(
            f"cannot read the event{'' if is_text else f' file {text!r}'}: {exc}",
            source="--event",
            hint='JSON such as {"kind": "element_failure", "element": "ilrs1-array", '
            '"at": "2033-07-01"} or a .json file',
        ) from None
    if not isinstance(ev, dict):
        raise IlrsError("the event must be a JSON object", source="--event")
    return parse_event(ev, "--event")


@handle_errors
def plan(
    scenario: str = typer.Argument("ilrs-basic-2035", help="A scenario TOML file or a built-in name."),
    requests: Path = typer.Option(None, help="Activity requests (TOML or JSON); default: the scenario's own."),
    start: str = typer.Option(None, help="Start of the planning horizon (UTC); default: first request."),
    end: str = typer.Option(None, help="End of the planning horizon (UTC); default: last deadline."),
    time_limit: float = typer.Option(
        30.0,
        min=0.5,
        help="Solver budget for the whole plan [s]: CP-SAT deterministic time (about seconds on an idle core), "
        "wall-clock seconds with --parallel.",
    ),
    method: str = typer.Option("cpsat", help="cpsat (exact windows seeded with greedy) or greedy."),
    window_days: float = typer.Option(7.0, min=0.5, help="Length of the solver's rolling windows [d]."),
    event: str = typer.Option(None, help="Re-plan after this event (JSON object or .json file)."),
    csv: Path = typer.Option(None, help="Write the planned activities to this CSV file."),
    gantt: Path = typer.Option(None, help="Write Gantt charts (per resource, per partner) to this HTML file."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
    parallel: bool = typer.Option(
        False,
        "--parallel",
        help="Search with parallel CP-SAT workers under a wall-clock limit: faster on an idle multi-core machine, "
        "but the plan may differ from run to run (default: one worker, fixed seed, deterministic time budget).",
    ),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Plan partner activity requests with CP-SAT against the twin's power, data, resources and conditions.

    The same inputs give the same plan, bit for bit (unless --parallel): the time limit is then a budget of
    CP-SAT's deterministic time, about seconds on an idle core."""
    import datetime as dt

    from ilrs.services.plan import (
        check_event_in,
        horizon_of,
        plan_rows,
        plan_scenario,
        plan_summary,
        replan_scenario,
        requests_for,
    )
    from ilrs.services.scenarios import validated_scenario

    if method not in ("cpsat", "greedy"):
        raise IlrsError(f"unknown method {method!r}", source="--method", hint="cpsat or greedy")

    def when(v: str | None, name: str):
        if v is None:
            return None
        try:
            return dt.datetime.fromisoformat(v.replace("Z", "")).replace(tzinfo=None)
        except ValueError:
            raise IlrsError(f"cannot read the date {v!r}", source=name, hint="e.g. 2033-01-01") from None

    if csv is not None:
        output_file(csv, "--csv", (".csv",))
    if gantt is not None:
        output_file(gantt, "--gantt", (".html", ".htm"))
    ev = _event(event)
    t_start, t_end = when(start, "--start"), when(end, "--end")
    sc = validated_scenario(scenario)
    rs = requests_for(sc, requests)
    if ev is not None:  # an event outside the horizon is refused before the plan is made
        check_event_in(ev, *horizon_of(rs, sc, t_start, t_end), source="--event")
    with progress_bar(f"planning {len(rs.requests)} requests on {sc.name}", quiet or as_json) as update:
        sp = plan_scenario(
            sc,
            rs,
            start=t_start,
            end=t_end,
            method=method,
            time_limit=time_limit,
            window_days=window_days,
            progress=lambda i, n: update(0.05 + 0.9 * i / n),
            deterministic=not parallel,
        )
        update(1.0)
    out = plan_summary(sp)
    if ev is not None:
        value_before = float(sp.result.value)
        rr, check, _ = replan_scenario(sp, ev, time_limit=min(time_limit, 7.0))
        sp.result, sp.check = rr.result, check
        out["replan"] = {
            "event": ev.model_dump(mode="json", by_alias=True),
            "seconds": rr.seconds,
            "kept": rr.kept,
            "moved_or_dropped": rr.moved_or_dropped,
            "added": rr.added,
            "value_before": value_before,
            "value_after": rr.result.value,
            "value": rr.result.value,
            "unplanned_occurrences": [
                {"request": x.request, "occurrence": x.occurrence, "reason": x.reason}
                for x in rr.result.unplaced_reasons()
            ],
            "twin_check_ok": check.ok,
            "notes": rr.result.notes,
        }
    rows = plan_rows(sp)
    if csv is not None:
        from ilrs.iotools.tables import write_csv

        head = ["request", "occurrence", "partner", "payload", "start", "end", "power_w", "data_mbit", "resources"]
        write_csv(
            csv,
            {k: np.array([";".join(r[k]) if k == "resources" else r[k] for r in rows], dtype=object) for k in head},
            float_format="%g",
        )
    if gantt is not None:
        from ilrs.iotools.atomic import atomic_write_text
        from ilrs.reports.ops_section import gantt_html

        atomic_write_text(gantt, _gantt_page(sp, gantt_html))
    if as_json:
        print_json(
            {
                **out,
                "activities": rows,
                "rejected_occurrences": out_rejected(sp),
            }
        )
        return
    t = Table(title=f"Plan {out['horizon'][0][:10]} .. {out['horizon'][1][:10]} on {sc.name}", title_justify="left")
    t.add_column("")
    t.add_column("value", justify="right")
    for label, v in (
        ("requests / occurrences", f"{out['requests']:,} / {out['blocks']:,}"),
        ("planned", f"{out['planned']:,}"),
        ("never plannable", f"{out['rejected']:,}"),
        ("did not fit", f"{out['unplanned']:,}"),
        ("value (priority weight x h)", f"{out['value']:,.1f}"),
        ("greedy baseline", f"{out['greedy_value']:,.1f}"),
        ("bound of the windows searched / gap", f"{out['bound']:,.1f} / {100 * out['gap']:.1f} %"),
        ("upper bound (each occurrence alone)", f"{out['trivial_bound']:,.1f}"),
        ("time", f"{out['seconds']:.1f} s ({out['windows']} windows)"),
        (
            "twin: extra shed steps / data lost",
            f"{sp.check.extra_shed_steps} / {sp.check.extra_data_lost_gbit:.3f} Gbit",
        ),
        ("validator violations", str(len(sp.violations))),
    ):
        t.add_row(label, v)
    console.print(t)
    s = Table(title="Allocated time per partner", title_justify="left")
    for c in ("partner", "share", "target"):
        s.add_column(c, justify="right")
    for p, v in out["shares"].items():
        s.add_row(p, f"{100 * v:.1f} %", f"{100 * out['share_targets'][p]:.1f} %")
    console.print(s)
    _itemise("never plannable", [(x["request"], x["occurrence"], x["reason"]) for x in out_rejected(sp)])
    _itemise("did not fit", [(x["request"], x["occurrence"], x["reason"]) for x in out["unplanned_occurrences"]])
    if "replan" in out:
        r = out["replan"]
        console.print(
            f"re-plan after {r['event'].get('kind')}: {r['seconds']:.1f} s, value {r['value_before']:,.1f} -> "
            f"{r['value_after']:,.1f}, kept {r['kept']}, moved or dropped {r['moved_or_dropped']}, added "
            f"{r['added']}, twin check {'ok' if r['twin_check_ok'] else 'FAILED'}"
        )
        _itemise(
            "did not fit after the re-plan",
            [(x["request"], x["occurrence"], x["reason"]) for x in r["unplanned_occurrences"]],
        )


def out_rejected(sp) -> list[dict]:
    """The occurrences that can never be planned (JSON rows), whatever else is in the plan."""
    return [{"request": x.request, "occurrence": x.occurrence, "reason": x.reason} for x in sp.result.rejected]


def _itemise(label: str, rows: list[tuple[str, int | None, str]]) -> None:
    """Every occurrence on a line per request and reason: ``label: request #0, #3: reason``."""
    groups: dict[tuple[str, str], list[int | None]] = {}
    for rid, occ, reason in rows:
        groups.setdefault((rid, reason), []).append(occ)
    for (rid, reason), occs in groups.items():
        which = "the request" if occs == [None] else ", ".join(f"#{o}" for o in occs)
        console.print(styled((label, "yellow"), f": {rid} {which}: {reason}"), highlight=False)


def _gantt_page(sp, gantt_html) -> str:
    import plotly.offline

    js = plotly.offline.get_plotlyjs()
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{sp.scenario.name} plan</title>"
        f"<script>{js}</script></head><body>{gantt_html(sp, 'resource')}{gantt_html(sp, 'partner')}</body></html>"
    )
