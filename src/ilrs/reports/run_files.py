"""The files of a run beside its report: the site maps (:mod:`ilrs.reports.map_files`) and a STAC catalogue of the
run's products (the twin's time series, the plan, and the maps' own catalogue as a child)."""

from __future__ import annotations

from pathlib import Path

from ilrs.reports.map_files import write_map_files
from ilrs.services.pipeline import RunProducts
from ilrs.services.scenarios import site_latlon


def write_run_files(products: RunProducts, out_dir: str | Path, pds4: bool = False) -> list[Path]:
    """The site maps in ``out_dir/maps`` (with PDS4 labels if ``pds4``) and ``out_dir/catalog.json``, a STAC
    catalogue of the run's time series (``twin.nc``) and plan (``plan.json``) where they exist, linking the maps'
    catalogue; return the files written (the products themselves are written by
    :func:`ilrs.services.pipeline.save_products`)."""
    from ilrs.iotools.stac import write_site_catalog

    out = Path(out_dir)
    written = write_map_files(out / "maps", products.maps, pds4=pds4) if products.maps is not None else []
    sc = products.scenario
    lat, lon = site_latlon(sc)
    place = {"lat_deg": lat, "lon_deg": lon, "start": sc.start, "end": sc.end}
    entries = [
        ("twin.nc", "twin", "application/netcdf", "the station twin's time series (CF-1.10 NetCDF)"),
        ("plan.json", "plan", "application/json", "the operations plan, one row per activity"),
    ]
    items = [
        {"item_id": item_id, "path": out / name, "title": title, "media_type": media, **place}
        for name, item_id, media, title in entries
        if (out / name).is_file()
    ]
    maps_catalog = [p for p in written if p.name == "catalog.json"]
    catalog = write_site_catalog(
        out,
        items,
        catalog_id=f"ilrs-run-{sc.name}",
        title=f"ilrs run of {sc.name}",
        description=f"The products of an ilrs run of the scenario {sc.name}, {sc.start:%Y-%m-%d} to {sc.end:%Y-%m-%d}, "
        "at the station's site (planetocentric latitude and east longitude on the lunar sphere, IAU_2015:30100)",
        children=maps_catalog,
    )
    return [*written, catalog, *(out / "items" / f"{i['item_id']}.json" for i in items)]
