"""Live push: committed outbox messages fanned out to the open UI clients, filtered by jurisdiction."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

Listener = Callable[[str, dict[str, Any]], None]


class LiveHub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: dict[int, tuple[str, Listener]] = {}
        self._next = 0
        self.published = 0

    def listen(self, jurisdiction: str, listener: Listener) -> int:
        """Receive messages whose ``jurisdiction`` lies under ``jurisdiction``; returns a handle."""
        with self._lock:
            self._next += 1
            self._listeners[self._next] = (jurisdiction, listener)
            return self._next

    def unlisten(self, handle: int) -> None:
        with self._lock:
            self._listeners.pop(handle, None)

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        with self._lock:
            targets = list(self._listeners.values())
            self.published += 1
        scope = str(payload.get("jurisdiction") or "")
        for jurisdiction, listener in targets:
            if scope.startswith(jurisdiction):
                listener(topic, payload)
