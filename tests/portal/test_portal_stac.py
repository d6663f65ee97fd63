"""The STAC catalogue of the portal's public data (``/api/stac``): read back and validated by pystac against the
STAC 1.1 core schemas it bundles, the items at the station's site with the IAU code of their coordinates, each
asset downloading the very bytes its checksum names; proprietary products never appear, whoever asks."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pyproj
import pytest
from portal_helpers import api_client

pytestmark = pytest.mark.portal


def _publish(world, product_id: int) -> None:
    """End a product's proprietary period (as if its months had passed)."""
    from ilrs.portal.db.models import DataProduct

    with world.db() as db:
        db.get(DataProduct, product_id).public_after = dt.datetime(2000, 1, 1)
        db.commit()


def _upload(world, who: str, proposal_id: int, name: str, content: bytes) -> int:
    from ilrs.portal import actions

    settings = world.app.state.settings
    with world.db() as db:
        dp = actions.add_data_product(
            db, world.actor(who), proposal_id, name, content, settings.upload_dir, settings.max_upload_bytes
        )
        return dp.id


def _core(d: dict) -> dict:
    """The dict without its extensions: offline, pystac validates the core only (the extensions' schemas would be
    fetched); their fields are read back through pystac below."""
    return {**d, "stac_extensions": []}


def test_stac_catalogue_of_public_data(world):
    import pystac
    from pystac.extensions.projection import ProjectionExtension
    from pystac.validation import validate_dict

    from ilrs.scenario.load import load_scenario
    from ilrs.services.scenarios import site_latlon

    sub = world.ids["submitted"]
    public_bytes = b"t,v\n0,1\n1,4\n"
    public = _upload(world, "pi_a", sub, "public-seismic.csv", public_bytes)
    _publish(world, public)
    secret = world.ids["data"]  # the world's product: still proprietary (12 months)
    secret2 = _upload(world, "pi_a", sub, "secret-second.csv", b"t,v\n9,9\n")

    lat, lon = site_latlon(load_scenario("ilrs-basic-2035"))
    for who in ("pi_c@example.org", "pi_a@example.org", "admin@example.org"):
        c = api_client(world.app, who)
        r = c.get("/api/stac")
        assert r.status_code == 200, r.text
        cat = r.json()
        validate_dict(cat, pystac.STACObjectType.CATALOG)
        catalog = pystac.Catalog.from_dict(cat)
        assert catalog.id == "ilrs-portal-public-data"
        item_links = [link["href"] for link in cat["links"] if link["rel"] == "item"]
        assert item_links == [f"http://testserver/api/stac/items/{public}"]
        # proprietary products are missing from the catalogue and from its text, even for their partner and staff
        assert "secret" not in r.text and "seismic.csv" not in r.text.replace("public-seismic.csv", "")
        for pid in (secret, secret2):
            assert c.get(f"/api/stac/items/{pid}").status_code == 404
        r = c.get(item_links[0])
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
        d = r.json()
        validate_dict(_core(d), pystac.STACObjectType.ITEM)
        item = pystac.Item.from_dict(d)
        proj = ProjectionExtension.ext(item)
        assert proj.code == "IAU_2015:30100"
        assert pyproj.CRS.from_wkt(proj.wkt2).equals(pyproj.CRS("IAU_2015:30100"))
        assert item.properties["ssys:targets"] == ["Moon"]
        # the site to a micro-degree (the scenario's coordinates, longitude moved to GeoJSON's -180..180)
        assert item.geometry["coordinates"] == pytest.approx([((lon + 180) % 360) - 180, lat], abs=1e-6)
        assert item.common_metadata.start_datetime == dt.datetime(2035, 6, 1, tzinfo=dt.UTC)
        asset = item.assets["data"]
        assert asset.media_type == "text/csv"
        got = c.get(asset.href)
        assert got.status_code == 200 and got.content == public_bytes
        assert asset.extra_fields["file:checksum"] == "1220" + hashlib.sha256(public_bytes).hexdigest()
        assert asset.extra_fields["file:size"] == len(public_bytes)
        assert {link["rel"] for link in d["links"]} >= {"root", "parent", "self"}


def test_stac_catalogue_empty_and_signed_in_only(world):
    """No public product yet: a valid empty catalogue; signed out: 401, as for the downloads it lists."""
    import pystac
    from pystac.validation import validate_dict

    assert api_client(world.app).get("/api/stac").status_code == 401
    r = api_client(world.app, "admin@example.org").get("/api/stac")
    validate_dict(r.json(), pystac.STACObjectType.CATALOG)
    assert [link for link in r.json()["links"] if link["rel"] == "item"] == []
    assert json.loads(r.text)["id"] == "ilrs-portal-public-data"
