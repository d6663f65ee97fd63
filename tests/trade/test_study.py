"""A small study end to end: each design's KPIs against its scenario file run alone, the grid's front against
brute-force enumeration, NSGA-II's hypervolume against the grid's, and the same results on 0, 1, 2 workers and a
remote scheduler."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ilrs.scenario.load import load_scenario
from ilrs.services import twin as twin_service
from ilrs.services.trade import run_trade, write_results
from ilrs.trade.designs import apply_design, metrics, objective_matrix
from ilrs.trade.pareto import brute_force_front
from ilrs.trade.toml_out import scenario_toml
from tests.clirunner import assert_ok, assert_user_error, invoke

HERE = Path(__file__).parent
STATION = HERE / "station-year.toml"
SMALL = HERE / "small.space.toml"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def grid_result():
    return run_trade(STATION, SMALL, "grid", workers=0)


def test_each_design_equals_its_scenario_file_run_alone(grid_result, tmp_path):
    r = grid_result
    # a relay-less design, one with the reactor late, one with everything: through a file and the one-scenario path
    for i in (0, int(np.argmax(r.feasible)), len(r.evaluations) - 1, 37):
        s = apply_design(r.scenario, r.space, tuple(int(x) for x in r.levels[i]))
        path = tmp_path / f"design-{i}.toml"
        path.write_text(scenario_toml(s), encoding="utf-8")
        alone = twin_service.run_twin(load_scenario(path))
        assert metrics(alone, r.space.mass) == r.evaluations[i].metrics, i


def test_grid_front_equals_brute_force_enumeration(grid_result):
    r = grid_result
    assert r.twin_runs == r.space.size() == 72
    assert 0 < r.feasible.sum() < len(r.evaluations)  # the constraint bites
    for i in np.flatnonzero(~r.feasible):
        assert "critical_load_lost_h" in r.reasons[i] and r.evaluations[i].metrics["critical_load_lost_h"] > 0
    feasible = np.flatnonzero(r.feasible)
    f = objective_matrix(r.space, [r.evaluations[i].metrics for i in feasible])
    expected = {int(feasible[k]) for k in brute_force_front(f)}
    assert set(np.flatnonzero(r.on_front)) == expected
    assert len(expected) >= 2
    # the sensitivity names the battery or the reactor, not the relay, as what moves the landed mass most
    assert r.sensitivity["landed_mass_kg"][0][0] in ("battery_kwh", "fission_kw")


def test_nsga2_recovers_the_front_with_fewer_runs(grid_result):
    g = grid_result
    n = run_trade(STATION, SMALL, "nsga2", workers=0)
    f = objective_matrix(g.space, [e.metrics for e in g.evaluations if e.metrics])[g.feasible]
    ideal, nadir = f.min(axis=0), f.max(axis=0)
    ratio = n.hypervolume(ideal, nadir) / g.hypervolume(ideal, nadir)
    assert ratio == pytest.approx(1.0, abs=0.01)
    assert n.twin_runs < g.twin_runs
    # the grid study reports the same check itself, from its own results (no twin run again)
    c = g.search
    assert c is not None and c.evaluations == len(n.evaluations) < c.grid_evaluations == len(g.evaluations)
    assert c.hypervolume_ratio == pytest.approx(ratio, rel=1e-12)
    assert c.grid_front == int(g.on_front.sum()) and 0 < c.front_found <= c.grid_front
    assert g.as_dict()["search_check"]["evaluations"] == c.evaluations


def test_latin_hypercube_designs_match_the_grid(grid_result):
    g = grid_result
    r = run_trade(STATION, SMALL, "lhs", workers=0)
    assert 0 < r.twin_runs <= r.space.samples < g.twin_runs
    by_levels = {e.levels: e.metrics for e in g.evaluations}
    for e in r.evaluations:
        assert e.metrics == by_levels[e.levels]
    # every level of every parameter is sampled (the hypercube's strata cover each axis)
    for j, (_, levels) in enumerate(r.space.dimensions()):
        assert set(r.levels[:, j]) == set(range(len(levels)))


def _table(r):
    return [(e.levels, e.metrics, e.error) for e in sorted(r.evaluations, key=lambda e: e.levels)]


def test_same_results_on_one_and_two_workers(grid_result):
    for workers in (1, 2):
        r = run_trade(STATION, SMALL, "grid", workers=workers)
        assert r.mode.startswith("LocalCluster")
        assert _table(r) == _table(grid_result)
        assert (r.on_front == grid_result.on_front).all()


@pytest.mark.slow
def test_seeded_samples_and_search_same_on_zero_and_two_workers():
    """The Latin hypercube and NSGA-II (same seed) ask for the same designs and get the same results in this
    process and on a 2-worker LocalCluster (NSGA-II's generations are evaluated in parallel there)."""
    for method in ("lhs", "nsga2"):
        here = run_trade(STATION, SMALL, method, workers=0)
        there = run_trade(STATION, SMALL, method, workers=2)
        assert there.mode.startswith("LocalCluster")
        assert [e.levels for e in there.evaluations] == [e.levels for e in here.evaluations], method
        assert _table(there) == _table(here), method


MULTI_SPACE = """
name = "sites-and-masts"
[[parameters]]
parameter = "site"
values = ["cr1", { lat_deg = -89.4455, lon_deg = 222.69 }]
[[parameters]]
parameter = "mast_height_m"
values = [5.0, 10.0]
[[parameters]]
parameter = "battery_kwh"
values = [150.0, 300.0]
[[objectives]]
metric = "landed_mass_kg"
sense = "min"
[[objectives]]
metric = "science_data_gbit"
sense = "max"
"""


@pytest.mark.slow
def test_one_environment_per_site_and_mast_shared_by_its_designs(tmp_path):
    """Designs that differ in site or mast height need their own site environment, the others share it: 2 sites
    x 2 masts give 4 environments for 8 designs, each design equal to its scenario file run alone."""
    space = tmp_path / "multi.toml"
    space.write_text(MULTI_SPACE, encoding="utf-8")
    r = run_trade(STATION, space, "grid", workers=0)
    assert len(r.evaluations) == 8 and r.environments == 4
    for i in (0, 3, 5, 6):  # one design in each environment
        s = apply_design(r.scenario, r.space, tuple(int(x) for x in r.levels[i]))
        path = tmp_path / f"design-{i}.toml"
        path.write_text(scenario_toml(s), encoding="utf-8")
        assert metrics(twin_service.run_twin(load_scenario(path)), r.space.mass) == r.evaluations[i].metrics, i
    # the site and the mast matter: the same battery at the other site or mast generates another energy
    energy = {tuple(int(x) for x in r.levels[i]): r.evaluations[i].metrics["generated_kwh"] for i in range(8)}
    assert energy[(0, 0, 0)] != energy[(1, 0, 0)] and energy[(0, 0, 0)] != energy[(0, 1, 0)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA) and its key, as PEM files."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ilrs-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.mark.parametrize("scheme", ["tcp", "tls"])
def test_remote_scheduler_on_loopback(grid_result, scheme, tmp_path):
    """A `dask scheduler` and a `dask worker` started on loopback, plain or over TLS (certificates made here; the
    client takes them from the Dask configuration, as docs/trade.md says): the same table as in process."""
    import dask

    port = _free_port()
    address = f"{scheme}://127.0.0.1:{port}"
    tls: list[str] = []
    config: dict[str, str] = {}
    if scheme == "tls":
        cert, key = _self_signed(tmp_path)
        tls = ["--tls-ca-file", str(cert), "--tls-cert", str(cert), "--tls-key", str(key)]
        config = {
            "distributed.comm.tls.ca-file": str(cert),
            "distributed.comm.tls.client.cert": str(cert),
            "distributed.comm.tls.client.key": str(key),
            "distributed.comm.require-encryption": True,
        }
    scheduler = "from distributed.cli.dask_scheduler import main; main()"
    worker = "from distributed.cli.dask_worker import main; main()"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", scheduler, "--host", "127.0.0.1", "--port", str(port), "--protocol", scheme,
             "--no-dashboard", *tls],
            **quiet,
        )
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", worker, address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard", *tls],
                **quiet,
            )
        )
        from distributed import Client

        with dask.config.set(config), Client(address, timeout="60s") as ready:
            ready.wait_for_workers(1, timeout=120)  # a loaded machine starts a worker slowly: not what is tested
        if scheme == "tls":  # without the certificates in the configuration: said, not a traceback
            from ilrs.errors import IlrsError

            with pytest.raises(IlrsError, match="no TLS certificates are configured"):
                run_trade(STATION, SMALL, "grid", scheduler=address)
        with dask.config.set(config):
            r = run_trade(STATION, SMALL, "grid", scheduler=address)
        assert r.mode.startswith(f"Dask scheduler {address}")
        assert _table(r) == _table(grid_result)
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(timeout=30)


def test_cli_writes_table_page_and_runnable_designs(tmp_path):
    out = tmp_path / "out"
    res = assert_ok(invoke("trade", STATION, "--space", SMALL, "--out", out, "--workers", "0", "--json"))
    data = json.loads(res.stdout)
    assert data["designs"] == 72 and data["feasible"] + data["infeasible"] == 72
    assert (out / "designs.nc").is_file() and (out / "trade.html").is_file()
    import xarray as xr

    with xr.open_dataset(out / "designs.nc", engine="h5netcdf") as ds:
        assert ds["landed_mass_kg"].attrs["units"] == "kg"
        assert int(ds["on_front"].sum()) == len(data["front"])
    html = (out / "trade.html").read_text()
    assert "parcoords" in html and "Pareto front" in html
    best = sorted(out.glob("small-*.toml"))
    assert len(best) >= 2
    first = data["front"][0]
    assert_ok(invoke("compare", best[0], best[1]))
    run = twin_service.run_twin(load_scenario(best[0]))
    assert run.kpis.data_downlinked_gbit == first["science_data_gbit"]
    assert_user_error(
        invoke("trade", STATION, "--space", SMALL, "--out", out, "--scheduler", "tcp://127.0.0.1:1"),
        "no Dask scheduler reachable",
    )


def test_write_results_is_repeatable(grid_result, tmp_path):
    a = write_results(grid_result, tmp_path / "a")
    b = write_results(grid_result, tmp_path / "b")
    assert [p.name for p in a.values()] == [p.name for p in b.values()]
    assert a["small-1"].read_text() == b["small-1"].read_text()
