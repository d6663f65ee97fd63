"""Data products: upload (size and type limits), listing, and downloads checked on every request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse

from ilrs.portal import actions, deps
from ilrs.portal.db.models import Proposal
from ilrs.portal.deps import ApiUser, PageSession, SessionDep, SettingsDep
from ilrs.portal.routes.auth import redirect, render
from ilrs.portal.rules import Invalid
from ilrs.portal.schemas import DataProductOut

api = APIRouter(prefix="/api", tags=["data"])
pages = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def read_limited(upload: UploadFile, limit: int) -> bytes:
    """At most ``limit`` + 1 bytes: enough to know a file is too large without reading all of it."""
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise Invalid(f"the file is larger than the limit of {limit:,} bytes", source="file")
    return data


def quota_of(settings) -> actions.Quota:
    return actions.Quota(
        settings.quota_proposal_bytes, settings.quota_organisation_bytes, settings.quota_proposal_files
    )


def _upload(db, user, proposal_id: int, file: UploadFile, settings):
    return actions.add_data_product(
        db,
        deps.actor(user),
        proposal_id,
        file.filename or "",
        read_limited(file, settings.max_upload_bytes),
        settings.upload_dir,
        settings.max_upload_bytes,
        quota_of(settings),
    )


def _file(dp, settings) -> FileResponse:
    return FileResponse(
        settings.upload_dir / dp.storage_key,
        media_type=dp.content_type,
        filename=dp.filename,
        headers={"Cache-Control": "private, no-store"},
    )


@api.get("/data", response_model=list[DataProductOut], summary="Data products you may download")
def products(user: ApiUser, db: SessionDep) -> list[DataProductOut]:
    return [DataProductOut.model_validate(d) for d in actions.data_products(db, deps.actor(user))]


@api.post(
    "/proposals/{proposal_id}/data",
    response_model=DataProductOut,
    status_code=201,
    summary="Attach a data product to an accepted proposal",
)
def upload(
    proposal_id: Id, file: Annotated[UploadFile, File()], user: ApiUser, db: SessionDep, settings: SettingsDep
) -> DataProductOut:
    return DataProductOut.model_validate(_upload(db, user, proposal_id, file, settings))


def _twin(db, user, proposal_id: int, settings):
    from ilrs.portal.station import twin_product

    a = deps.actor(user)
    p = actions.get_proposal(db, a, proposal_id)
    actions.require_data_rights(db, a, p)  # before the twin runs
    call = actions.get_call(db, p.call_id)
    name, content = twin_product(call.scenario, call.cycle_start, call.cycle_end)
    return actions.add_data_product(
        db, a, proposal_id, name, content, settings.upload_dir, settings.max_upload_bytes, quota_of(settings)
    )


@api.post(
    "/proposals/{proposal_id}/data/twin",
    response_model=DataProductOut,
    status_code=201,
    summary="Attach the station twin's run over the call's cycle (NetCDF) as a data product",
)
def twin_data(proposal_id: Id, user: ApiUser, db: SessionDep, settings: SettingsDep) -> DataProductOut:
    return DataProductOut.model_validate(_twin(db, user, proposal_id, settings))


@api.get(
    "/data/{product_id}",
    summary="Download (checked against the proprietary period on every request)",
    response_class=FileResponse,
)
def download(product_id: Id, user: ApiUser, db: SessionDep, settings: SettingsDep):
    return _file(actions.get_data_product(db, deps.actor(user), product_id), settings)


@pages.get("/data", response_class=HTMLResponse)
def data_page(request: Request, session: PageSession, db: SessionDep) -> HTMLResponse:
    products = actions.data_products(db, deps.actor(session[0]))
    products.sort(key=lambda d: (d.created_at, d.id), reverse=True)  # the newest upload first
    titles: dict[int, str] = {}
    for d in products:  # already loaded by the access check above
        p = db.get(Proposal, d.proposal_id)
        titles[d.proposal_id] = p.title if p is not None else f"proposal {d.proposal_id}"
    return render(request, "data.html", session, products=products, titles=titles, title="Data products")


@pages.post("/proposals/{proposal_id}/data")
def upload_post(
    request: Request,
    proposal_id: Id,
    session: PageSession,
    db: SessionDep,
    settings: SettingsDep,
    _: deps.CsrfChecked,
    file: Annotated[UploadFile, File()],
):
    _upload(db, session[0], proposal_id, file, settings)
    return redirect(f"/proposals/{proposal_id}")


@pages.post("/proposals/{proposal_id}/data/twin")
def twin_post(
    request: Request, proposal_id: Id, session: PageSession, db: SessionDep, settings: SettingsDep, _: deps.CsrfChecked
):
    _twin(db, session[0], proposal_id, settings)
    return redirect(f"/proposals/{proposal_id}")


@pages.get("/data/{product_id}")
def download_page(product_id: Id, session: PageSession, db: SessionDep, settings: SettingsDep):
    return _file(actions.get_data_product(db, deps.actor(session[0]), product_id), settings)
