"""Background workers of one process: the engine and the outbox dispatcher.

One composition root starts them in order and stops them in reverse order;
every loop waits on the shared stop event with a bounded timeout.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from changan.engine.runtime import Engine
from changan.kit.logging import get_logger
from changan.web.context import AppContext

log = get_logger(__name__)


def engine_for(ctx: AppContext) -> Engine:
    """The engine as the settings configure it."""
    s = ctx.settings
    return Engine(
        ctx.factory,
        ctx.network,
        clock=ctx.clock,
        batch_size=s.engine_batch_size,
        lateness_s=s.engine_lateness_s,
        snapshot_every_s=s.engine_snapshot_every_s,
        detectors_config=s.engine_detectors,
    )


class Workers:
    def __init__(self, ctx: AppContext, *, engine: bool = True) -> None:
        self._ctx = ctx
        self._threads: list[threading.Thread] = []
        self._with_engine = engine

    def start(self) -> None:
        ctx = self._ctx
        if self._with_engine:
            engine = engine_for(ctx)
            self._spawn("engine", lambda: engine.run(ctx.stop, idle_wait_s=ctx.settings.engine_idle_wait_s))
        self._spawn("outbox", self._outbox_loop)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=f"changan-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)
        log.info("worker.started", worker=name)

    def _outbox_loop(self) -> None:
        ctx = self._ctx
        while not ctx.stop.is_set():
            try:
                sent = ctx.outbox.dispatch_once()
            except Exception as exc:
                log.error("outbox.dispatch_failed", error=str(exc))
                sent = 0
            if sent == 0:
                ctx.stop.wait(0.2)

    def stop(self, timeout_s: float = 10.0) -> None:
        self._ctx.stop.set()
        for thread in reversed(self._threads):
            thread.join(timeout_s)
        log.info("worker.stopped_all")
