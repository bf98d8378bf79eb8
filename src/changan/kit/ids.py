"""Identifiers: random ids for rows, derived ids for things that must be idempotent, and secret tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid


def new_id() -> str:
    """A random row id (UUID4 hex)."""
    return uuid.uuid4().hex


def derived_id(*parts: str | int) -> str:
    """A deterministic id from its parts: the same parts always give the same id."""
    h = hashlib.sha256()
    for part in parts:
        h.update(str(part).encode())
        h.update(b"\x1f")
    return h.hexdigest()[:32]


def new_token(prefix: str) -> str:
    """A secret bearer token; only its hash is stored."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
