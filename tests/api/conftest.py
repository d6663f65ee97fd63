"""The month station of :mod:`tests.month_scenario` (July 2034, hourly), its requests and a four-design space."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.month_scenario import write_month_scenario

HERE = Path(__file__).parent
REQUESTS = HERE / "month-requests.toml"
SPACE = HERE / "month.space.toml"


@pytest.fixture(scope="session")
def month(tmp_path_factory) -> Path:
    return write_month_scenario(tmp_path_factory.mktemp("api") / "month.toml")
