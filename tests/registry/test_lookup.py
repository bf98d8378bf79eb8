"""The engine's registry adapters: the LRU/TTL cache on a fake clock, and the HTTP adapter against a
real local HTTP server."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import unquote

import pytest
import structlog
from structlog.testing import capture_logs

from changan.engine.context import Registry, RegistryRecord
from changan.kit.clock import FakeClock
from changan.registry.lookup import CachedRegistry, HttpRegistry, LookupFailed, MemoryRegistry, split_key

T0 = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


def rec(plate_no: str, plate_class: str = "02", **kw: Any) -> RegistryRecord:
    return RegistryRecord(f"{plate_class}:{plate_no}", plate_no, plate_class, **kw)


class CountingRegistry:
    """A registry that counts how often it is asked, and can fail on demand."""

    def __init__(self, *records: RegistryRecord) -> None:
        self.records = {r.vehicle_key: r for r in records}
        self.asked: list[str] = []
        self.failing = False

    def fetch(self, vehicle_key: str) -> RegistryRecord | None:
        self.asked.append(vehicle_key)
        if self.failing:
            raise LookupFailed("down")
        return self.records.get(vehicle_key)

    def get(self, vehicle_key: str) -> RegistryRecord | None:
        try:
            return self.fetch(vehicle_key)
        except LookupFailed:
            return None


def _ports(r: Registry) -> Registry:
    return r


def test_every_adapter_is_a_registry() -> None:
    with HttpRegistry("http://x/{plate_no}") as remote:
        for r in (MemoryRegistry(), CachedRegistry(MemoryRegistry()), remote):
            assert _ports(r).get("x:1") is None


class TestMemoryRegistry:
    def test_get(self) -> None:
        a, b = rec("鲁P12345"), rec("鲁P12345", "01")
        registry = MemoryRegistry([a, b])
        assert (registry.get("02:鲁P12345"), registry.get("01:鲁P12345"), registry.get("52:鲁P12345")) == (
            a,
            b,
            None,
        )
        assert len(registry) == 2


class TestCache:
    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock(T0)

    def test_ttl_for_found_and_shorter_for_unknown(self, clock: FakeClock) -> None:
        inner = CountingRegistry(rec("鲁P12345"))
        cache = CachedRegistry(inner, max_entries=10, ttl_s=60, negative_ttl_s=10, clock=clock)
        assert cache.get("02:鲁P12345") == rec("鲁P12345")
        assert cache.get("02:鲁P99999") is None
        clock.advance(timedelta(seconds=9.999))
        assert cache.get("02:鲁P12345") == rec("鲁P12345")
        assert cache.get("02:鲁P99999") is None
        assert inner.asked == ["02:鲁P12345", "02:鲁P99999"]
        clock.advance(timedelta(seconds=0.001))  # exactly 10 s: the negative answer has expired
        assert cache.get("02:鲁P99999") is None
        assert inner.asked[-1] == "02:鲁P99999" and len(inner.asked) == 3
        clock.advance(timedelta(seconds=50))  # exactly 60 s: the record has expired
        assert cache.get("02:鲁P12345") == rec("鲁P12345")
        assert len(inner.asked) == 4
        assert (cache.hits, cache.misses) == (2, 4)

    def test_a_vehicle_registered_meanwhile_is_seen_after_the_negative_ttl(self, clock: FakeClock) -> None:
        inner = CountingRegistry()
        cache = CachedRegistry(inner, ttl_s=3600, negative_ttl_s=300, clock=clock)
        assert cache.get("02:鲁P12345") is None
        inner.records["02:鲁P12345"] = rec("鲁P12345")
        clock.advance(timedelta(seconds=299))
        assert cache.get("02:鲁P12345") is None
        clock.advance(timedelta(seconds=1))
        assert cache.get("02:鲁P12345") == rec("鲁P12345")

    def test_lru_evicts_the_least_recently_used(self, clock: FakeClock) -> None:
        keys = [f"02:鲁P1234{i}" for i in range(4)]
        inner = CountingRegistry(*(rec(k[3:]) for k in keys))
        cache = CachedRegistry(inner, max_entries=3, ttl_s=60, negative_ttl_s=10, clock=clock)
        for k in keys[:3]:
            cache.get(k)
        cache.get(keys[0])  # 0 is now the most recent; 1 the least
        cache.get(keys[3])  # evicts 1
        assert (len(cache), cache.evictions) == (3, 1)
        inner.asked.clear()
        for k in (keys[0], keys[2], keys[3]):
            cache.get(k)
        assert inner.asked == []
        cache.get(keys[1])
        assert inner.asked == [keys[1]]
        assert cache.stats() == {
            "hits": 4,
            "misses": 5,
            "errors": 0,
            "evictions": 2,
            "entries": 3,
            "hit_rate": 4 / 9,
        }

    def test_failures_are_unknown_and_retried_sooner(self, clock: FakeClock) -> None:
        inner = CountingRegistry(rec("鲁P12345"))
        inner.failing = True
        cache = CachedRegistry(inner, ttl_s=60, negative_ttl_s=30, error_ttl_s=5, clock=clock)
        assert cache.get("02:鲁P12345") is None
        assert cache.get("02:鲁P12345") is None
        assert (len(inner.asked), cache.errors) == (1, 1)
        inner.failing = False
        clock.advance(timedelta(seconds=5))
        assert cache.get("02:鲁P12345") == rec("鲁P12345")

    def test_a_zero_ttl_does_not_cache(self, clock: FakeClock) -> None:
        inner = CountingRegistry()
        cache = CachedRegistry(inner, negative_ttl_s=0, clock=clock)
        cache.get("02:鲁P12345")
        cache.get("02:鲁P12345")
        assert len(inner.asked) == 2 and len(cache) == 0

    def test_invalidate(self, clock: FakeClock) -> None:
        inner = CountingRegistry()
        cache = CachedRegistry(inner, clock=clock)
        cache.get("02:鲁P12345")
        cache.get("02:鲁P12346")
        cache.invalidate("02:鲁P12345")
        assert len(cache) == 1
        cache.invalidate()
        assert len(cache) == 0

    def test_plain_registries_work_behind_the_cache(self, clock: FakeClock) -> None:
        cache = CachedRegistry(MemoryRegistry([rec("鲁P12345")]), clock=clock)
        assert cache.get("02:鲁P12345") == rec("鲁P12345")
        assert cache.get("02:鲁P12345") == rec("鲁P12345")
        assert (cache.hits, cache.misses) == (1, 1)

    @pytest.mark.parametrize(
        "kw", [{"max_entries": 0}, {"ttl_s": -1}, {"negative_ttl_s": -1}, {"error_ttl_s": -0.5}]
    )
    def test_bad_settings(self, kw: dict[str, float]) -> None:
        with pytest.raises(ValueError, match="须"):
            CachedRegistry(MemoryRegistry(), **kw)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- HTTP

VEHICLES: dict[str, dict[str, Any]] = {
    "02:鲁P12345": {
        "plate_no": "鲁P12345",
        "plate_class": "02",
        "vehicle_class": "K33",
        "use": "非营运",
        "body_colour": "A",
        "brand": "大众",
        "model": "朗逸",
        "operator": None,
    },
    "01:鲁P2K301": {
        "号牌号码": "鲁P2K301",
        "号牌种类": "01",
        "使用性质": "B",
        "CSYS": "白",
        "运营单位": "冠县通达客运",
    },
    "02:鲁P0THER": {"plate_no": "鲁P0THER", "plate_class": "01"},  # answers for another vehicle
    "02:鲁P0BADC": {"plate_no": "鲁P0BADC", "plate_class": "77"},
    "02:鲁P0UNRG": {"plate_no": "鲁P0UNRG", "plate_class": "02", "registered": False},
}


class Handler(BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        if "P0SLW1" not in self.path:  # the client gives up on this one: it may be handled late
            Handler.requests.append(self.path)
        parts = self.path.split("/")  # /v/<class>/<plate>
        key = f"{parts[2]}:{unquote(parts[3])}"
        plate = key.split(":")[1]
        if plate == "鲁P0500A":
            self._send(500, b"boom")
        elif plate == "鲁P0SLW1":
            time.sleep(1.0)
            self._send(200, b"{}")
        elif plate == "鲁P0JUNK":
            self._send(200, b"{not json")
        elif plate == "鲁P0LST1":
            self._send(200, b"[]")
        elif key in VEHICLES:
            self._send(200, json.dumps(VEHICLES[key], ensure_ascii=False).encode())
        else:
            self._send(404, b'{"error": "not_found"}')

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def remote(server: str) -> Iterator[HttpRegistry]:
    Handler.requests.clear()
    with HttpRegistry(server + "/v/{plate_class}/{plate_no}", timeout_s=0.3) as registry:
        yield registry


class TestHttpRegistry:
    def test_found_with_english_or_chinese_fields(self, remote: HttpRegistry) -> None:
        assert remote.get("02:鲁P12345") == rec(
            "鲁P12345", vehicle_class="K33", use="非营运", body_colour="A", brand="大众", model="朗逸"
        )
        assert remote.get("01:鲁P2K301") == rec(
            "鲁P2K301", "01", use="公路客运", body_colour="A", operator="冠县通达客运"
        )
        assert Handler.requests[0] == "/v/02/%E9%B2%81P12345"

    def test_404_or_not_registered_is_unknown_and_not_an_error(self, remote: HttpRegistry) -> None:
        with capture_logs() as logs:
            assert remote.get("02:鲁P99999") is None
            assert remote.fetch("02:鲁P99999") is None
            assert remote.fetch("02:鲁P0UNRG") is None
        assert logs == [] and remote.failures == 0

    def test_the_key_is_canonicalised_before_asking(self, remote: HttpRegistry) -> None:
        found = remote.get("2:鲁p12345")
        assert found is not None and found.vehicle_key == "02:鲁P12345"
        assert Handler.requests == ["/v/02/%E9%B2%81P12345"]

    @pytest.mark.parametrize(
        ("plate", "reason"),
        [
            ("鲁P0500A", "HTTP 500"),
            ("鲁P0SLW1", "ReadTimeout"),
            ("鲁P0JUNK", "invalid JSON"),
            ("鲁P0LST1", "not a JSON object"),
            ("鲁P0THER", "another vehicle"),
            ("鲁P0BADC", "plate_class"),
        ],
    )
    def test_errors_are_logged_and_answered_unknown(
        self, remote: HttpRegistry, plate: str, reason: str
    ) -> None:
        with capture_logs() as logs:
            assert remote.get(f"02:{plate}") is None
        assert [e["event"] for e in logs] == ["registry.lookup_failed"]
        assert reason in logs[0]["reason"] and logs[0]["vehicle_key"] == f"02:{plate}"
        with pytest.raises(LookupFailed):
            remote.fetch(f"02:{plate}")

    def test_unreachable_service(self) -> None:
        with HttpRegistry("http://127.0.0.1:9/{plate_no}", timeout_s=0.2) as remote, capture_logs() as logs:
            assert remote.get("02:鲁P12345") is None
        assert logs[0]["event"] == "registry.lookup_failed"

    def test_per_passage_keys_are_never_sent(self, remote: HttpRegistry) -> None:
        for key in ("x:passage-17", "garbage", "77:鲁P12345", "02:鲁P1-345", "02:"):
            assert remote.get(key) is None
            assert split_key(key) is None
        assert Handler.requests == []
        assert split_key("2:鲁p12345") == ("02", "鲁P12345")

    @pytest.fixture
    def all_levels(self) -> Iterator[None]:
        """Info events reach capture_logs even after another test configured a higher level."""
        saved = structlog.get_config()
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
        yield
        structlog.configure(**saved)

    @pytest.mark.usefixtures("all_levels")
    def test_repeated_failures_suspend_calls_for_the_cooldown(self, server: str) -> None:
        Handler.requests.clear()
        now = [100.0]
        with (
            HttpRegistry(
                server + "/v/{plate_class}/{plate_no}",
                failure_threshold=3,
                cooldown_s=30,
                monotonic=lambda: now[0],
            ) as remote,
            capture_logs() as logs,
        ):
            for _ in range(3):
                assert remote.get("02:鲁P0500A") is None
            assert remote.get("02:鲁P12345") is None  # suspended: not even asked
            asked = [r for r in Handler.requests if r.endswith(("P0500A", "P12345"))]
            assert (len(asked), remote.skipped) == (3, 1)
            now[0] += 30
            assert remote.get("02:鲁P12345") is not None
        assert [e["event"] for e in logs] == [
            "registry.lookup_failed",
            "registry.lookup_failed",
            "registry.lookup_failed",
            "registry.lookup_suspended",
            "registry.lookup_resumed",
        ]

    def test_behind_the_cache(self, remote: HttpRegistry) -> None:
        clock = FakeClock(T0)
        cache = CachedRegistry(remote, ttl_s=60, negative_ttl_s=10, error_ttl_s=2, clock=clock)
        for _ in range(3):
            assert cache.get("02:鲁P12345") is not None
            assert cache.get("02:鲁P99999") is None
            assert cache.get("02:鲁P0500A") is None
        assert len(Handler.requests) == 3
        assert (cache.hits, cache.misses, cache.errors) == (6, 3, 1)
        clock.advance(timedelta(seconds=2))
        cache.get("02:鲁P0500A")
        assert len(Handler.requests) == 4

    @pytest.mark.parametrize(
        ("template", "kw"),
        [("http://x/{plate}", {}), ("http://x/{plate_class}", {}), ("http://x/{plate_no}", {"timeout_s": 0})],
    )
    def test_bad_settings(self, template: str, kw: dict[str, float]) -> None:
        with pytest.raises(ValueError, match=r"须|无效"):
            HttpRegistry(template, **kw)
