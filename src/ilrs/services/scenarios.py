"""Scenario use cases: load, check against the terrain, summarise."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ilrs.errors import IlrsError
from ilrs.scenario.load import load_scenario, scenario_error
from ilrs.scenario.schema import Scenario
from ilrs.services.data import default_mosaic
from ilrs.terrain.sites import site_by_key

#: Coarsest DEM a station site may stand on [m] (the 240 m south-pole DEM).
MAX_SITE_CELL_M = 500.0


def site_latlon(scenario: Scenario) -> tuple[float, float]:
    s = scenario.site
    if s.name is not None:
        named = site_by_key(s.name)
        return named.lat_deg, named.lon_deg
    return float(s.lat_deg), float(s.lon_deg)  # type: ignore[arg-type]


def validated_scenario(name_or_path: str | Path | None = None) -> Scenario:
    """A scenario checked in full before any simulation: schema, references, and its site on the terrain."""
    scenario = load_scenario(name_or_path)
    lat, lon = site_latlon(scenario)
    mosaic = default_mosaic()
    layer = int(mosaic.layer_index_latlon(np.array([lat]), np.array([lon]))[0])
    if layer < 0 or mosaic.layers[layer].cell_size_m > MAX_SITE_CELL_M:
        raise scenario_error(
            scenario,
            ("site", "name" if scenario.site.name is not None else "lat_deg"),
            f"site ({lat:.4f}, {lon:.4f}) lies outside every embedded south-pole DEM (10 m, 240 m); "
            "only the 7.6 km global LDEM_4 covers it, too coarse for a station's horizon",
            hint="choose a site south of about 84 S, or a named site (ilrs site list)",
        )
    if scenario.missions:
        from ilrs.campaign.roadmap import check_roadmap, scenario_roadmap

        missions, vehicles = scenario_roadmap(scenario)
        try:
            check_roadmap(missions, vehicles)
        except IlrsError as exc:
            raise _mission_error(scenario, exc) from exc
    return scenario


def _mission_error(scenario: Scenario, exc: IlrsError) -> IlrsError:
    """A roadmap error (its source ``mission 'NAME'.FIELD``) located in the scenario file: the [[missions]] entry
    and its line."""
    for k, mission in enumerate(scenario.missions):
        head = f"mission {mission.name!r}"
        if exc.source == head or (exc.source or "").startswith(head + "."):
            field = (exc.source or "")[len(head) + 1 :] or "name"
            return scenario_error(
                scenario, ("missions", k, field), f"mission {mission.name!r}: {exc.message}", hint=exc.hint
            )
    return IlrsError(exc.message, source=f"{scenario.path or scenario.name}: [[missions]]", hint=exc.hint)


def starting_scenario(name: str, template: str = "ilrs-basic-2035") -> str:
    """A built-in scenario's commented TOML text under a new name, with a header saying how to use it."""
    import re
    import tomllib

    from ilrs.scenario.load import BUILTIN_DIR, builtin_scenarios

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,79}", name):
        raise IlrsError(
            f"scenario name {name!r} is not usable",
            source="NAME",
            hint="letters, digits, spaces, '.', '_' and '-', at most 80 characters",
        )
    path = BUILTIN_DIR / f"{template}.toml"
    if not path.is_file():
        raise IlrsError(f"no built-in scenario {template!r}", source="--template", hint=", ".join(builtin_scenarios()))
    text = path.read_text(encoding="utf-8")
    old = tomllib.loads(text)["name"]
    text = text.replace(f'name = "{old}"', f'name = "{name}"', 1)
    header = (
        f"# {name}: a station scenario started from the built-in '{template}' (ilrs scenario init).\n"
        "# Edit the site, the elements and their arrivals; every field, unit and range is in docs/scenario.md.\n"
        f"# Check it with `ilrs scenario validate {name}.toml`, run it with `ilrs twin {name}.toml` or `ilrs run`.\n"
        "# `requests` (partner activities) resolves next to this file first, then among the built-in requests.\n#\n"
    )
    return header + text
