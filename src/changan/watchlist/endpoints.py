"""HTTP endpoints of the watchlist."""

from __future__ import annotations

from fastapi import APIRouter

from changan.watchlist import service
from changan.watchlist.schemas import EntryCreate, EntryOut
from changan.web.deps import Ctx, CurrentActor

router = APIRouter(prefix="/api/v1/watchlist", tags=["watchlist"])


@router.get("/entries", response_model=list[EntryOut], summary="布控列表")
def list_entries(ctx: Ctx, actor: CurrentActor, status: str | None = None) -> list[EntryOut]:
    with ctx.reader() as session:
        return [EntryOut.model_validate(e) for e in service.list_entries(session, actor, status=status)]


@router.post("/entries", response_model=EntryOut, status_code=201, summary="添加布控")
def create_entry(data: EntryCreate, ctx: Ctx, actor: CurrentActor) -> EntryOut:
    with ctx.uow() as session:
        return EntryOut.model_validate(service.create_entry(session, actor, data, now=ctx.clock()))


@router.post("/entries/{entry_id}/revoke", response_model=EntryOut, summary="撤销布控")
def revoke_entry(entry_id: str, ctx: Ctx, actor: CurrentActor) -> EntryOut:
    with ctx.uow() as session:
        return EntryOut.model_validate(service.revoke_entry(session, actor, entry_id, now=ctx.clock()))
