"""Registry adapters for the engine's :class:`~changan.engine.context.Registry` port.

* :class:`MemoryRegistry`: the local table in a dict, for the hot path (one dict lookup per
  ``get``). :meth:`MemoryRegistry.version` is a cheap change marker so that the engine reloads
  only when the table has changed.
* :class:`HttpRegistry`: a remote lookup service. Errors are logged (``registry.lookup_failed``)
  and answered None: *unknown*, which is never a violation by itself. After
  ``failure_threshold`` consecutive failures it stops calling for ``cooldown_s``
  (``registry.lookup_suspended`` / ``registry.lookup_resumed``), so that a service that is down
  costs the engine nothing but unknowns instead of one timeout per vehicle.
* :class:`CachedRegistry`: an LRU with a TTL in front of any registry; negative answers (not
  registered) are kept for a shorter time, failed lookups shorter still.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from changan.engine.context import Registry, RegistryRecord
from changan.kit.clock import Clock
from changan.kit.logging import get_logger
from changan.plates import PlateClass, read_plate
from changan.registry.importer import is_false, normalise_mapping
from changan.registry.models import RegistryRow

log = get_logger(__name__)

RegistryVersion = tuple[int, datetime | None]
"""(row count, latest ``updated_at``): changes whenever an import inserts or changes a row."""

_LOAD_BATCH = 10_000


class MemoryRegistry:
    """Every registry row in a dict keyed by vehicle key.

    Repeated values (class codes, uses, colours, brands, models, operators) are shared between
    records, which roughly halves the memory of a large registry.
    """

    __slots__ = ("_by_key", "loaded_version")

    def __init__(self, records: Iterable[RegistryRecord] = (), *, version: RegistryVersion = (0, None)):
        self._by_key: dict[str, RegistryRecord] = {r.vehicle_key: r for r in records}
        self.loaded_version = version

    def get(self, vehicle_key: str) -> RegistryRecord | None:
        return self._by_key.get(vehicle_key)

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, vehicle_key: object) -> bool:
        return vehicle_key in self._by_key

    @classmethod
    def load(cls, session: Session) -> MemoryRegistry:
        """Read the whole table. The version is read first, so a change that lands during the
        load shows as a newer version at the next :meth:`reload_if_changed`."""
        version = cls.version(session)
        shared: dict[str | None, str | None] = {}
        share = shared.setdefault  # one object per distinct value
        classes: dict[str, str] = {}

        c = RegistryRow.__table__.c
        stmt = select(
            c.vehicle_key,
            c.plate_no,
            c.plate_class,
            c.vehicle_class,
            c.use,
            c.body_colour,
            c.brand,
            c.model,
            c.operator,
        )
        by_key: dict[str, RegistryRecord] = {}
        result = session.execute(stmt.execution_options(yield_per=_LOAD_BATCH))
        for key, plate_no, plate_class, vehicle_class, use, colour, brand, model, operator in result:
            by_key[key] = RegistryRecord(
                vehicle_key=key,
                plate_no=plate_no,
                plate_class=classes.setdefault(plate_class, plate_class),
                vehicle_class=share(vehicle_class, vehicle_class),
                use=share(use, use),
                body_colour=share(colour, colour),
                brand=share(brand, brand),
                model=share(model, model),
                operator=share(operator, operator),
            )
        out = cls(version=version)
        out._by_key = by_key
        log.info("registry.loaded", records=len(by_key), version_count=version[0])
        return out

    @staticmethod
    def version(session: Session) -> RegistryVersion:
        """(count, max ``updated_at``) of the table: one aggregate query (about 20 ms for 200 000
        rows on SQLite). Every import that inserts or changes a row moves one of the two, since
        unchanged rows are not rewritten and changed ones get the import's time; two imports
        stamped with the very same instant (a stopped test clock) are the only blind spot."""
        count, latest = session.execute(
            select(func.count(), func.max(RegistryRow.updated_at)).select_from(RegistryRow)
        ).one()
        return int(count), latest

    def reload_if_changed(self, session: Session) -> MemoryRegistry:
        """This registry if the table has not changed since it was loaded, else a fresh load."""
        if self.version(session) == self.loaded_version:
            return self
        return self.load(session)


class LookupFailed(Exception):
    """A remote lookup could not be answered (network, status, payload, or suspended)."""


@runtime_checkable
class FetchingRegistry(Protocol):
    """A registry that can tell *not registered* (None) from *could not ask* (:class:`LookupFailed`)."""

    def fetch(self, vehicle_key: str) -> RegistryRecord | None: ...


def split_key(vehicle_key: str) -> tuple[str, str] | None:
    """(plate_class, plate_no) of a vehicle key, canonical (``2:鲁p12345`` → ``("02", "鲁P12345")``);
    None for per-passage keys (``x:…``), unknown classes and plates that identify no vehicle."""
    class_part, sep, plate_part = vehicle_key.partition(":")
    plate_class = PlateClass.try_parse(class_part) if sep else None
    if plate_class is None:
        return None
    read = read_plate(plate_part)
    if not read.valid:
        return None
    return plate_class.value, read.text


class HttpRegistry:
    """A remote registry: ``GET url_template.format(plate_no=…, plate_class=…)``.

    The answer is a JSON object with the import's field names (``plate_no``, ``plate_class``,
    ``vehicle_class``, ``use``, ``body_colour``, ``brand``, ``model``, ``operator``, or their
    Chinese and abbreviated forms), normalised exactly as an imported row. 404 means not
    registered. The plate number is percent-encoded into the URL.
    """

    def __init__(
        self,
        url_template: str,
        timeout_s: float = 0.5,
        *,
        headers: Mapping[str, str] | None = None,
        failure_threshold: int = 5,
        cooldown_s: float = 30.0,
        client: httpx.Client | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        try:
            url_template.format(plate_no="P", plate_class="02")
        except (KeyError, IndexError, ValueError) as exc:
            msg = f"url_template 无效：只能含 {{plate_no}} 与 {{plate_class}} 占位符（{exc!r}）"
            raise ValueError(msg) from None
        if "{plate_no}" not in url_template:
            msg = "url_template 须含 {plate_no} 占位符"
            raise ValueError(msg)
        if timeout_s <= 0:
            msg = "timeout_s 须大于 0"
            raise ValueError(msg)
        if failure_threshold < 1 or cooldown_s < 0:
            msg = "failure_threshold 须 ≥ 1，cooldown_s 须 ≥ 0"
            raise ValueError(msg)
        self.url_template = url_template
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._client = client or httpx.Client(timeout=timeout_s, headers=dict(headers or {}))
        self._owns_client = client is None
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._failures = 0
        self._suspended_until = 0.0
        self.requests = 0
        self.failures = 0
        self.skipped = 0

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> HttpRegistry:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def get(self, vehicle_key: str) -> RegistryRecord | None:
        """The record, or None when not registered *or* when the lookup failed (logged)."""
        try:
            return self.fetch(vehicle_key)
        except LookupFailed:
            return None

    def fetch(self, vehicle_key: str) -> RegistryRecord | None:
        """The record, or None when not registered.

        Raises:
            LookupFailed: the service could not answer (already logged as ``registry.lookup_failed``)
                or is suspended after repeated failures.
        """
        parts = split_key(vehicle_key)
        if parts is None:
            return None
        plate_class, plate_no = parts
        wanted = f"{plate_class}:{plate_no}"
        with self._lock:
            if self._suspended_until and self._monotonic() < self._suspended_until:
                self.skipped += 1
                msg = "registry service suspended after repeated failures"
                raise LookupFailed(msg)
        url = self.url_template.format(plate_no=quote(plate_no, safe=""), plate_class=quote(plate_class))
        try:
            record = self._request(url, wanted)
        except LookupFailed as exc:
            self._failed(vehicle_key, str(exc))
            raise
        self._succeeded()
        return record

    def _request(self, url: str, vehicle_key: str) -> RegistryRecord | None:
        self.requests += 1
        try:
            response = self._client.get(url)
        except httpx.HTTPError as exc:
            msg = f"{type(exc).__name__}: {exc}"
            raise LookupFailed(msg) from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            msg = f"HTTP {response.status_code}"
            raise LookupFailed(msg)
        try:
            data: Any = response.json()
        except ValueError as exc:
            msg = f"invalid JSON: {exc}"
            raise LookupFailed(msg) from exc
        if not isinstance(data, dict):
            msg = "answer is not a JSON object"
            raise LookupFailed(msg)
        if is_false(data.get("registered")):  # the service knows the vehicle but not as registered
            return None
        result = normalise_mapping(data)
        if result.record is None:
            problems = "; ".join(f"{i.field}: {i.reason}" for i in result.issues if i.severity == "error")
            msg = f"invalid record: {problems}"
            raise LookupFailed(msg)
        if result.record.vehicle_key != vehicle_key:
            msg = f"answered for another vehicle ({result.record.vehicle_key})"
            raise LookupFailed(msg)
        return result.record

    def _failed(self, vehicle_key: str, reason: str) -> None:
        with self._lock:
            self.failures += 1
            self._failures += 1
            suspend = self._failures >= self.failure_threshold and self.cooldown_s > 0
            if suspend:
                self._suspended_until = self._monotonic() + self.cooldown_s
                self._failures = 0
        log.warning("registry.lookup_failed", vehicle_key=vehicle_key, reason=reason)
        if suspend:
            log.warning("registry.lookup_suspended", cooldown_s=self.cooldown_s)

    def _succeeded(self) -> None:
        with self._lock:
            resumed = self._suspended_until > 0
            self._failures = 0
            self._suspended_until = 0.0
        if resumed:
            log.info("registry.lookup_resumed")


class CachedRegistry:
    """An LRU cache with time-to-live in front of a registry.

    A found record is kept ``ttl_s``, a negative answer (not registered) ``negative_ttl_s``, a
    failed lookup (only from a :class:`FetchingRegistry`) ``error_ttl_s``; a TTL of 0 does not
    cache. Expiry uses the monotonic clock, or ``clock`` (a :data:`~changan.kit.clock.Clock`) when
    given: an entry stored at ``t`` with TTL ``d`` answers until, not including, ``t + d``.
    ``hits`` and ``misses`` count calls.
    """

    def __init__(
        self,
        inner: Registry,
        max_entries: int = 100_000,
        ttl_s: float = 3600.0,
        negative_ttl_s: float = 300.0,
        *,
        error_ttl_s: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        if max_entries < 1:
            msg = "max_entries 须 ≥ 1"
            raise ValueError(msg)
        if ttl_s < 0 or negative_ttl_s < 0 or error_ttl_s < 0:
            msg = "ttl_s、negative_ttl_s、error_ttl_s 须 ≥ 0"
            raise ValueError(msg)
        self.inner = inner
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self.negative_ttl_s = negative_ttl_s
        self.error_ttl_s = error_ttl_s
        # The monotonic clock by default (cheap, immune to wall-clock steps); a Clock for tests.
        self._now: Callable[[], float] = time.monotonic if clock is None else (lambda: clock().timestamp())
        self._fetch = inner.fetch if isinstance(inner, FetchingRegistry) else None
        self._entries: OrderedDict[str, tuple[float, RegistryRecord | None]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.errors = 0
        self.evictions = 0

    def get(self, vehicle_key: str) -> RegistryRecord | None:
        now = self._now()
        with self._lock:
            entry = self._entries.get(vehicle_key)
            if entry is not None:
                if now < entry[0]:
                    self._entries.move_to_end(vehicle_key)
                    self.hits += 1
                    return entry[1]
                del self._entries[vehicle_key]
            self.misses += 1
        record, ttl = self._ask(vehicle_key)
        if ttl > 0:
            with self._lock:
                self._entries[vehicle_key] = (now + ttl, record)
                self._entries.move_to_end(vehicle_key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
                    self.evictions += 1
        return record

    def _ask(self, vehicle_key: str) -> tuple[RegistryRecord | None, float]:
        if self._fetch is None:
            record = self.inner.get(vehicle_key)
        else:
            try:
                record = self._fetch(vehicle_key)
            except LookupFailed:
                self.errors += 1
                return None, self.error_ttl_s
        return record, self.ttl_s if record is not None else self.negative_ttl_s

    def invalidate(self, vehicle_key: str | None = None) -> None:
        """Forget one key, or everything."""
        with self._lock:
            if vehicle_key is None:
                self._entries.clear()
            else:
                self._entries.pop(vehicle_key, None)

    def __len__(self) -> int:
        return len(self._entries)

    def stats(self) -> dict[str, float]:
        calls = self.hits + self.misses
        return {
            "hits": self.hits,
            "misses": self.misses,
            "errors": self.errors,
            "evictions": self.evictions,
            "entries": len(self._entries),
            "hit_rate": self.hits / calls if calls else 0.0,
        }
