"""Jurisdiction scoping in SQL: the same rule as :meth:`Actor.sees`, for queries."""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

from changan.auth.principal import Actor


def within(actor: Actor, column: InstrumentedAttribute[str]) -> ColumnElement[bool]:
    """Rows whose jurisdiction code lies under the actor's (a prefix match on 2/4/6/8-digit codes)."""
    return column.startswith(actor.jurisdiction, autoescape=True)
