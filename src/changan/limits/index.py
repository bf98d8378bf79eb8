"""Temporary speed limits as the engine reads them: by camera site (or carriageway segment) and event time.

A temporary limit (团雾, 施工 …; 山东省高速公路交通安全条例 Art. 34: the traffic police
may limit speed on a highway) is set for a **stretch**: one carriageway of one road,
from ``from_node`` to ``to_node`` in that direction. The stretch is the node path
``Network.path(from_node, to_node)``; its segments are the directed edges between
consecutive nodes of that path.

**Which sites it covers.** A camera site watches one carriageway segment: from its node
towards its heading node. A site is covered when that segment is a segment of the
stretch, i.e. its node is on the path *before* ``to_node`` and its heading is the next
node of the path. So:

* a site at ``from_node`` heading along the stretch is covered (the limit starts there);
* a site at ``to_node`` is **not** covered: the segment it watches lies beyond the stretch;
* a site on the opposite carriageway (heading back along the path) is never covered.

**When.** A limit is in force for event times ``t`` with ``valid_from <= t < end``,
where ``end`` is the earlier of ``valid_until`` and ``revoked_at`` (a revoked limit
stops from its revocation time; an open-ended limit lasts until revoked). Where
several limits cover one site at one time, the lowest applies.

:class:`LimitIndex` implements the engine's ``TemporaryLimits`` protocol
(``limit_at(site_id, t)``) and, for section speed, :meth:`LimitIndex.limit_between`
(what applies on one segment during a whole traversal). Build it with
:meth:`LimitIndex.load`; :meth:`LimitIndex.version` is a cheap query that changes
whenever a limit is created or revoked, so the engine reloads only then.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from changan.kit.logging import get_logger
from changan.limits.models import SpeedLimit
from changan.network import Network, NetworkError

log = get_logger(__name__)

_INF = float("inf")

Interval = tuple[float, float, int]  # (start, end, limit_kmh): in force for start <= t < end


class StretchError(ValueError):
    """A stretch that cannot be used; ``field`` names the offending input."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class LimitRow(Protocol):
    """What the index reads from a limit (a :class:`SpeedLimit` row, or anything shaped like it)."""

    @property
    def id(self) -> str: ...
    @property
    def road_id(self) -> str: ...
    @property
    def from_node(self) -> str: ...
    @property
    def to_node(self) -> str: ...
    @property
    def limit_kmh(self) -> int: ...
    @property
    def valid_from(self) -> datetime: ...
    @property
    def valid_until(self) -> datetime | None: ...
    @property
    def revoked_at(self) -> datetime | None: ...


def stretch_path(network: Network, road_id: str, from_node: str, to_node: str) -> list[str]:
    """The node path of a stretch, checked: the road exists, both nodes are on it, and the drive
    from ``from_node`` to ``to_node`` (``Network.path``) stays on that road without turning back.

    Raises :class:`StretchError` naming the field (``road_id``, ``from_node`` or ``to_node``).
    """
    if road_id not in network.roads:
        msg = f"道路 {road_id} 不存在"
        raise StretchError(msg, "road_id")
    for field, node_id in (("from_node", from_node), ("to_node", to_node)):
        node = network.nodes.get(node_id)
        if node is None:
            msg = f"节点 {node_id} 不存在"
            raise StretchError(msg, field)
        if road_id not in node.road_ids:
            msg = f"节点 {node_id} 不在道路 {road_id} 上"
            raise StretchError(msg, field)
    if from_node == to_node:
        msg = "终点须不同于起点"
        raise StretchError(msg, "to_node")
    try:
        path = network.path(from_node, to_node)
    except NetworkError:
        msg = f"从 {from_node} 无法沿道路 {road_id} 行驶到 {to_node}"
        raise StretchError(msg, "to_node") from None
    on_road = {(e.from_node, e.to_node) for e in network.edges if e.road_id == road_id}
    if len(set(path)) != len(path) or any(pair not in on_road for pair in itertools.pairwise(path)):
        msg = f"从 {from_node} 到 {to_node} 不是道路 {road_id} 的同一方向路段"
        raise StretchError(msg, "to_node")
    return path


def _epoch(t: datetime | None) -> float:
    return _INF if t is None else t.timestamp()


class LimitIndex:
    """Temporary limits by site and by carriageway segment (a shared model the speeding detector reads)."""

    def __init__(self, rows: Iterable[LimitRow], network: Network) -> None:
        self._by_edge: dict[tuple[str, str], list[Interval]] = {}
        self.size = 0
        for row in rows:
            start = row.valid_from.timestamp()
            end = min(_epoch(row.valid_until), _epoch(row.revoked_at))
            if end <= start:
                continue  # revoked before it began: never in force
            try:
                path = stretch_path(network, row.road_id, row.from_node, row.to_node)
            except StretchError as exc:  # the network changed under a stored limit
                log.warning("limits.stretch_unusable", limit_id=row.id, field=exc.field, error=str(exc))
                continue
            for edge in itertools.pairwise(path):
                self._by_edge.setdefault(edge, []).append((start, end, row.limit_kmh))
            self.size += 1
        self._by_site: dict[str, list[Interval]] = {}
        for site in network.sites.values():
            intervals = self._by_edge.get((site.node_id, site.heading_node_id))
            if intervals:
                self._by_site[site.id] = intervals

    # ------------------------------------------------------------------ queries
    def limit_at(self, site_id: str, t: float) -> int | None:
        """The lowest temporary limit in force at event time ``t`` on the segment ``site_id`` watches."""
        intervals = self._by_site.get(site_id)
        if not intervals:
            return None
        best: int | None = None
        for start, end, limit in intervals:
            if start <= t < end and (best is None or limit < best):
                best = limit
        return best

    def limit_between(
        self, from_node: str, to_node: str, t1: float, t2: float
    ) -> tuple[int | None, int | None]:
        """For the segment ``from_node → to_node`` and a traversal from ``t1`` to ``t2``: the lowest
        limit in force at *some* moment of ``[t1, t2]``, and the lowest in force *throughout* it."""
        intervals = self._by_edge.get((from_node, to_node))
        if not intervals:
            return None, None
        some: int | None = None
        whole: int | None = None
        for start, end, limit in intervals:
            if start <= t2 and end > t1 and (some is None or limit < some):
                some = limit
            if start <= t1 and end > t2 and (whole is None or limit < whole):
                whole = limit
        return some, whole

    # ------------------------------------------------------------- loading
    @classmethod
    def load(cls, session: Session, network: Network) -> LimitIndex:
        """Every stored limit (revoked ones too: they still apply before their revocation)."""
        index = cls(session.scalars(select(SpeedLimit).order_by(SpeedLimit.id)), network)
        log.info("limits.loaded", limits=index.size)
        return index

    @staticmethod
    def version(session: Session) -> tuple[Any, ...]:
        """Changes whenever a limit is created or revoked (both set ``updated_at``); rows are never deleted."""
        return tuple(session.execute(select(func.count(), func.max(SpeedLimit.updated_at))).one())
