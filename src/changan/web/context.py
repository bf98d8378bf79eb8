"""The composition root's objects, shared by the API, the UI and the workers of one process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from changan.ingest.service import IngestLimits
from changan.kit.clock import Clock
from changan.kit.db import make_engine, make_sessionmaker, unit_of_work
from changan.kit.outbox import OutboxDispatcher
from changan.kit.settings import Settings
from changan.network import Network
from changan.passages.images import ImageStore
from changan.web.live import LiveHub


@dataclass
class AppContext:
    settings: Settings
    db: Engine
    factory: sessionmaker[Session]
    reader: sessionmaker[Session]
    network: Network
    images: ImageStore
    clock: Clock
    outbox: OutboxDispatcher
    live: LiveHub
    stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def build(cls, settings: Settings, clock: Clock, network: Network | None = None) -> AppContext:
        db = make_engine(settings.database_url)
        factory = make_sessionmaker(db)
        net = network or (
            Network.load(settings.network_file) if settings.network_file else Network.load_default()
        )
        live = LiveHub()
        outbox = OutboxDispatcher(factory, clock)
        outbox.subscribe(live.publish)
        return cls(
            settings=settings,
            db=db,
            factory=factory,
            reader=make_sessionmaker(db, readonly=True),
            network=net,
            images=ImageStore(settings.images_path),
            clock=clock,
            outbox=outbox,
            live=live,
        )

    @contextmanager
    def uow(self) -> Iterator[Session]:
        """One transaction, committed on success: the edge owns it."""
        with unit_of_work(self.factory) as session:
            yield session

    @property
    def ingest_limits(self) -> IngestLimits:
        s = self.settings
        return IngestLimits(
            max_batch=s.ingest_max_batch,
            future_skew_s=s.ingest_future_skew_s,
            max_age_days=s.ingest_max_age_days,
        )
