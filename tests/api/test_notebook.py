"""The example notebook ``docs/notebooks/quickstart.ipynb`` executed in a Jupyter kernel of this interpreter: no
cell fails, every result renders as HTML, and the numbers it shows are those of the same calls made here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ilrs import api

NOTEBOOK = Path(__file__).parents[2] / "docs" / "notebooks" / "quickstart.ipynb"

pytestmark = pytest.mark.slow


def _text(output: dict) -> str:
    if output.get("output_type") == "stream":
        return str(output["text"])
    data = output.get("data", {})
    return str(data.get("text/html", "")) + str(data.get("text/plain", ""))


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    import nbformat
    from nbclient import NotebookClient

    from ilrs.config import get_settings

    nb = nbformat.read(NOTEBOOK, as_version=4)
    src = str(Path(api.__file__).parents[1])
    # the kernel imports this checkout's sources and shares the tests' cache; jupyter_client starts "python" as
    # sys.executable, so the kernel runs in this interpreter with its packages
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]),
        "ILRS_CACHE_DIR": str(get_settings().cache_dir),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    work = tmp_path_factory.mktemp("notebook")
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(work)}}, allow_errors=False
    )
    client.execute(env=env, cwd=str(work))
    return nb


def test_notebook_runs_without_errors_and_renders_html(executed):
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    html_reprs = [o for o in outputs if "text/html" in o.get("data", {})]
    # site, twin, arrays, campaign, transfer, relay, nrho, plan, trade summaries and the data frames
    assert len(html_reprs) >= 12
    assert all(c.get("outputs") for c in executed.cells if c.cell_type == "code")


def test_notebook_shows_the_same_numbers(executed):
    text = "\n".join(_text(o) for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", []))
    station = api.with_period("ilrs-basic-2035", start="2035-07-01", end="2035-08-01", step="1h")
    twin = api.twin(station)
    assert f"generated {twin.kpis.generated_kwh:,.0f} kWh" in text
    assert twin.verdict.headline().split(";")[0] in text
    campaign = api.campaign("ilrs-basic-2035", runs=2000, seed=2035, workers=0)
    assert f"P(energy by 2035-01-01) = {campaign.result.probability_by('energy', '2035-01-01'):.3f}" in text
    transfer = api.transfer(model="patched-conic")
    assert f"{transfer['tli_dv_m_s']:,.3f}" in text
    site = api.site(-89.45, 222.69, "2035-07-01", "2035-07-15", "1h")
    assert f"{100 * site.result.sun_visible_fraction:,.3f}" in text
    assert f"{api.descent(llo_alt_km=100.0)['total_dv_m_s']:,.3f}" in text
