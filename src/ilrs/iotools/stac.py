"""A STAC catalogue (SpatioTemporal Asset Catalog, through pystac) of raster products: one item per GeoTIFF with
the projection extension (the IAU code, WKT2, PROJJSON, grid shape and transform, read from the file).

Coordinates on the Moon: STAC's ``bbox`` and ``geometry`` are planetocentric latitude and east longitude on the
lunar sphere (IAU_2015:30100), not WGS84, as planetary STAC catalogues do; the items name their body in
``ssys:targets``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path

#: The Solar System extension (body of a planetary item); its fields are plain properties to pystac.
SSYS_SCHEMA = "https://stac-extensions.github.io/ssys/v1.1.0/schema.json"


def _utc(value: str) -> dt.datetime:
    t = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def write_raster_catalog(
    out: str | os.PathLike[str],
    rasters: Sequence[str | os.PathLike[str]],
    *,
    catalog_id: str,
    description: str,
    start: str,
    end: str,
    bounds_deg: tuple[float, float, float, float],
) -> Path:
    """Write ``catalog.json`` and one item per GeoTIFF under ``out`` (self-contained, relative links); return the
    catalogue's path. ``bounds_deg`` is (west, south, east, north) [deg] of the products on the Moon."""
    import pystac
    import rasterio
    from pystac.extensions.projection import ProjectionExtension

    from ilrs.iotools.geotiff import pam_sidecar, read_crs

    out = Path(out)
    west, south, east, north = bounds_deg
    if east - west >= 360.0:  # all longitudes (a polar cap): STAC's convention
        west, east = -180.0, 180.0
    bbox = [west, south, east, north]
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    catalog = pystac.Catalog(id=catalog_id, description=description, title=description)
    for raster in rasters:
        raster = Path(raster)
        crs = read_crs(raster)
        with rasterio.open(raster) as ds:
            shape = [ds.height, ds.width]
            transform = list(ds.transform)[:6]
            title = ds.tags(1).get("LONG_NAME") or ds.descriptions[0] or raster.stem
            unit = ds.units[0] or ""
        item = pystac.Item(
            id=raster.stem,
            geometry={"type": "Polygon", "coordinates": [ring]},
            bbox=bbox,
            datetime=None,
            start_datetime=_utc(start),
            end_datetime=_utc(end),
            properties={"title": title, "ssys:targets": ["Moon"]},
            stac_extensions=[SSYS_SCHEMA],
        )
        proj = ProjectionExtension.ext(item, add_if_missing=True)
        authority = crs.to_authority(min_confidence=100)
        proj.apply(
            code=f"{authority[0]}:{authority[1]}" if authority else None,
            wkt2=crs.to_wkt("WKT2_2019"),
            projjson=crs.to_json_dict(),
            shape=shape,
            transform=transform,
        )
        item.add_asset(
            "data",
            pystac.Asset(
                href=str(raster.resolve()),
                media_type=pystac.MediaType.COG,
                roles=["data"],
                title=f"{title} [{unit}]" if unit else title,
            ),
        )
        sidecar = pam_sidecar(raster)
        if sidecar.exists():
            item.add_asset(
                "gdal-pam",
                pystac.Asset(
                    href=str(sidecar.resolve()),
                    media_type=pystac.MediaType.XML,
                    roles=["metadata"],
                    title="GDAL PAM sidecar: the exact CRS (WKT2 with its IAU code), read by GDAL with the GeoTIFF",
                ),
            )
        catalog.add_item(item)
    catalog.normalize_hrefs(str(out))
    catalog.make_all_asset_hrefs_relative()
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return out / "catalog.json"


#: The File Info extension (size and checksum of an asset); its fields are plain properties to pystac.
FILE_SCHEMA = "https://stac-extensions.github.io/file/v2.1.0/schema.json"

#: The CRS of the items' ``geometry`` and ``bbox``: the lunar sphere's planetocentric latitude and east longitude.
LUNAR_GEOGRAPHIC_CRS = "IAU_2015:30100"


def _lon180(lon_deg: float) -> float:
    """East longitude in GeoJSON's -180..180 [deg]."""
    return ((lon_deg + 180.0) % 360.0) - 180.0


def site_product_item(
    *,
    item_id: str,
    self_href: str,
    title: str,
    asset_href: str,
    media_type: str,
    lat_deg: float,
    lon_deg: float,
    start: dt.datetime,
    end: dt.datetime,
    size_bytes: int,
    sha256: str,
    description: str = "",
):
    """A STAC item (a ``pystac.Item``) for one data product taken at a place on the Moon (a station's site): a point
    at ``lat_deg``, ``lon_deg`` [deg, planetocentric, east] with the projection extension naming its CRS
    (``IAU_2015:30100``, WKT2 and PROJJSON), the period it covers, and the asset with its size and SHA-256
    (File Info extension, checksum as a multihash)."""
    import pyproj
    import pystac
    from pystac.extensions.projection import ProjectionExtension

    lon = _lon180(lon_deg)
    item = pystac.Item(
        id=item_id,
        geometry={"type": "Point", "coordinates": [lon, lat_deg]},
        bbox=[lon, lat_deg, lon, lat_deg],
        datetime=None,
        start_datetime=start if start.tzinfo else start.replace(tzinfo=dt.UTC),
        end_datetime=end if end.tzinfo else end.replace(tzinfo=dt.UTC),
        # STAC wants a description non-empty or absent
        properties={"title": title, "ssys:targets": ["Moon"], **({"description": description} if description else {})},
        stac_extensions=[SSYS_SCHEMA, FILE_SCHEMA],
    )
    crs = pyproj.CRS(LUNAR_GEOGRAPHIC_CRS)
    ProjectionExtension.ext(item, add_if_missing=True).apply(
        code=LUNAR_GEOGRAPHIC_CRS, wkt2=crs.to_wkt("WKT2_2019"), projjson=crs.to_json_dict()
    )
    item.add_asset(
        "data",
        pystac.Asset(
            href=asset_href,
            media_type=media_type,
            roles=["data"],
            title=title,
            extra_fields={"file:size": int(size_bytes), "file:checksum": "1220" + sha256},  # multihash: sha2-256
        ),
    )
    item.set_self_href(self_href)
    return item


def catalog_dict(*, catalog_id: str, title: str, description: str, self_href: str, items: Sequence) -> dict:
    """A STAC catalogue (as a dict, for an API) linking ``items`` (``pystac.Item`` with their own self hrefs)."""
    import pystac

    catalog = pystac.Catalog(id=catalog_id, description=description, title=title)
    catalog.set_self_href(self_href)
    for item in items:
        href = item.get_self_href()
        catalog.add_item(item)
        item.set_self_href(href)  # add_item leaves it; kept explicit so the links are the API's URLs
    return catalog.to_dict(include_self_link=True, transform_hrefs=False)


def write_site_catalog(
    out: str | os.PathLike[str],
    products: Sequence[dict],
    *,
    catalog_id: str,
    title: str,
    description: str,
    children: Sequence[str | os.PathLike[str]] = (),
) -> Path:
    """Write ``catalog.json`` under ``out`` (self-contained, relative links) with one item per product (``items/
    <id>.json``) and a child link to each catalogue in ``children`` (left as they are); return its path.

    Each product is a dict of :func:`site_product_item`'s arguments except the hrefs, size and checksum, plus
    ``path``: the file, inside ``out``, that the item's asset points to."""
    import hashlib

    import pystac

    out = Path(out)
    catalog = pystac.Catalog(id=catalog_id, description=description, title=title)
    catalog.set_self_href(str(out / "catalog.json"))
    for spec in products:
        spec = dict(spec)
        path = Path(spec.pop("path"))
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        self_href = out / "items" / f"{spec['item_id']}.json"
        item = site_product_item(
            **spec,
            self_href=str(self_href),
            asset_href=os.path.relpath(path, self_href.parent),
            size_bytes=path.stat().st_size,
            sha256=digest,
        )
        catalog.add_item(item)
        item.set_self_href(str(self_href))
    for child in children:
        href = "./" + Path(os.path.relpath(child, out)).as_posix()
        catalog.add_link(pystac.Link(rel="child", target=href, media_type=pystac.MediaType.JSON))
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return out / "catalog.json"
