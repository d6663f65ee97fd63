"""``ilrs plan``: the JSON contract on the built-in scenario, CSV and Gantt outputs, and bad input named."""

from __future__ import annotations

import json

import pytest

from tests.clirunner import assert_ok, assert_user_error, invoke

# the worker that runs services/test_plan_service.py runs these too: the default scenario's environment series is
# computed once, into the run's cache, and read back here
pytestmark = pytest.mark.xdist_group("plan_scenario")


def test_plan_json_csv_gantt(tmp_path):
    csv, gantt = tmp_path / "plan.csv", tmp_path / "plan.html"
    r = assert_ok(invoke("plan", "--json", "--time-limit", "4", "--csv", csv, "--gantt", gantt))
    out = json.loads(r.stdout)
    for key in (
        "value",
        "greedy_value",
        "bound",
        "gap",
        "shares",
        "twin_check",
        "violations",
        "activities",
        "rejected_occurrences",
        "horizon",
    ):
        assert key in out
    assert out["violations"] == [] and out["twin_check"]["ok"]
    assert out["value"] >= out["greedy_value"] > 0 and out["bound"] >= out["value"]
    assert out["planned"] == len(out["activities"]) > 100
    # every activity inside the horizon, on the 10-minute grid
    for a in out["activities"]:
        assert out["horizon"][0] <= a["start"] < a["end"] <= out["horizon"][1]
        assert a["start"][14:16] in {"00", "10", "20", "30", "40", "50"}
    lines = csv.read_text().splitlines()
    assert lines[0].startswith("request,occurrence,partner") and len(lines) == len(out["activities"]) + 1
    html = gantt.read_text()
    assert "Plan per resource" in html and "Plan per partner" in html


def test_plan_bad_requests_named(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[requests]]\nid = "x1"\npartner = "p"\npayload = "cam"\nduration = "two hours"\n'
        "earliest = 2033-01-01\ndeadline = 2033-02-01\n"
    )
    assert_user_error(invoke("plan", "--requests", bad), "x1", "duration")
    syntax = tmp_path / "syntax.toml"
    syntax.write_text("[[requests]\nid = 1\n")
    assert_user_error(invoke("plan", "--requests", syntax), "syntax.toml")
    assert_user_error(invoke("plan", "--event", "{not json"), "--event")
    ev = '{"kind": "element_failure", "element": "nope", "at": "2033-05-01"}'
    assert_user_error(invoke("plan", "--time-limit", "2", "--event", ev), "nope", "ilrs1-array")


def test_plan_unplannable_requests_reported_rest_planned(tmp_path):
    f = tmp_path / "r.toml"
    f.write_text("""
[[requests]]
id = "ok"
partner = "a"
payload = "seismometer"
duration = "1h"
earliest = 2033-03-01T00:00:00
deadline = 2033-03-08T00:00:00
power_w = 50

[[requests]]
id = "too-long"
partner = "b"
payload = "camera"
duration = "3d"
earliest = 2033-03-01T00:00:00
deadline = 2033-03-02T00:00:00

[[requests]]
id = "no-such-tool"
partner = "b"
payload = "camera"
duration = "1h"
earliest = 2033-03-01T00:00:00
deadline = 2033-03-08T00:00:00
resources = ["laser-cannon"]

[[requests]]
id = "loop-a"
partner = "a"
payload = "x"
duration = "1h"
earliest = 2033-03-01T00:00:00
deadline = 2033-03-08T00:00:00
after = ["loop-b"]

[[requests]]
id = "loop-b"
partner = "a"
payload = "x"
duration = "1h"
earliest = 2033-03-01T00:00:00
deadline = 2033-03-08T00:00:00
after = ["loop-a"]
""")
    r = assert_ok(invoke("plan", "--requests", f, "--json", "--time-limit", "2"))
    out = json.loads(r.stdout)
    why = {x["request"]: x["reason"] for x in out["rejected_occurrences"]}
    assert "longer" in why["too-long"]
    assert "laser-cannon" in why["no-such-tool"]
    assert "cycl" in why["loop-a"] and "cycl" in why["loop-b"]
    assert [a["request"] for a in out["activities"]] == ["ok"]
