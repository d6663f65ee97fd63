"""The STAC catalogue of the portal's public data: every data product past its proprietary period, as a STAC item
at the station's site on the Moon (the projection extension names the IAU CRS of its coordinates), its asset the
product's download. Like the downloads themselves, it is for signed-in users; proprietary products never appear."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from ilrs.portal import actions
from ilrs.portal.deps import ApiUser, SessionDep
from ilrs.portal.rules import NotFound

api = APIRouter(prefix="/api", tags=["data"])
pages = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]

CATALOG_ID = "ilrs-portal-public-data"
CATALOG_TITLE = "ILRS portal: public data products"


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _items(request: Request, rows) -> list:
    from ilrs.iotools.stac import site_product_item
    from ilrs.portal.station import site_of

    base = _base(request)
    items = []
    for dp, call in rows:
        lat, lon = site_of(call.scenario)
        items.append(
            site_product_item(
                item_id=f"data-{dp.id}",
                self_href=f"{base}/api/stac/items/{dp.id}",
                title=dp.filename,
                description=f"data product of proposal {dp.proposal_id} in call {call.title!r} ({call.scenario})",
                asset_href=f"{base}/api/data/{dp.id}",
                media_type=dp.content_type,
                lat_deg=lat,
                lon_deg=lon,
                start=call.cycle_start,
                end=call.cycle_end,
                size_bytes=dp.size,
                sha256=dp.sha256,
            )
        )
    return items


def _catalog(request: Request, items: list) -> dict:
    from ilrs.iotools.stac import catalog_dict

    return catalog_dict(
        catalog_id=CATALOG_ID,
        title=CATALOG_TITLE,
        description="Data products of the International Lunar Research Station's portal whose proprietary period "
        "has ended; coordinates are planetocentric latitude and east longitude on the lunar sphere (IAU_2015:30100).",
        self_href=f"{_base(request)}/api/stac",
        items=items,
    )


@api.get("/stac", summary="STAC catalogue of the public data products (STAC 1.1, projection extension)")
def catalog(request: Request, user: ApiUser, db: SessionDep) -> JSONResponse:
    return JSONResponse(_catalog(request, _items(request, actions.public_data_products(db))))


@api.get("/stac/items/{product_id}", summary="STAC item of one public data product")
def item(product_id: Id, request: Request, user: ApiUser, db: SessionDep) -> JSONResponse:
    rows = actions.public_data_products(db, product_id)
    if not rows:  # missing or still proprietary: the same answer
        raise NotFound("no such public data product", source=f"data {product_id}")
    (one,) = _items(request, rows)
    _catalog(request, [one])  # gives the item its root and parent links
    return JSONResponse(one.to_dict(transform_hrefs=False), media_type="application/geo+json")
