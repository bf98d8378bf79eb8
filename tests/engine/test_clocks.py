"""Device clock estimates from the traffic: offsets and drift recovered on synthetic traffic with known
clocks; answers only from passages before the event time; independent of arrival order; snapshots."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

import pytest

from changan.engine.clocks import ClockConfig, DeviceClocks
from changan.engine.context import Context
from changan.engine.core import WATERMARK_MAX_LAG_S
from changan.engine.detectors.base import ConfigError
from changan.engine.sighting import Sighting
from tests.engine.builders import context, sighting

T0 = 1_800_000_000.0  # 2027-01-15 08:00 UTC
# the gantries of 德上高速 (G0321) in one direction, in driving order (5.5–11 km apart)
CHAIN = [
    "G032137900110",
    "G032137900310",
    "G032137900510",
    "G032137900610",
    "G032137900810",
    "G032137900910",
    "G032137901110",
    "G032137901310",
    "G032137901510",
    "G032137901710",
    "G032137901910",
    "G032137902110",
    "G032137902310",
    "G032137902510",
    "G032137902710",
]


def dev(site: str, n: int = 1) -> str:
    return f"{site}-C{n}"


def traffic(
    ctx: Context,
    n_vehicles: int,
    *,
    seed: int = 1,
    t0: float = T0,
    span_s: float = 3 * 3600,
    offsets: Mapping[str, float] | None = None,
    drifts: Mapping[str, float] | None = None,
    duplicate_share: float = 0.0,
    plate_prefix: str = "鲁P",
    sites: Sequence[str] = CHAIN,
) -> list[Sighting]:
    """Vehicles driving stretches of ``sites`` at their own steady speed (80–120 km/h), read by
    devices whose clocks are ``offset + drift·hours`` off; sorted by reported time."""
    rng = random.Random(seed)
    offsets = offsets or {}
    drifts = drifts or {}
    out: list[Sighting] = []
    for k in range(n_vehicles):
        first = rng.randrange(len(sites) - 2)
        last = rng.randrange(first + 2, len(sites) + 1)
        speed = rng.uniform(80, 120)
        t = t0 + rng.uniform(0, span_s)
        plate = f"{plate_prefix}{k:05d}"
        for idx in range(first, last):
            site = sites[idx]
            if idx > first:
                d = ctx.sites.distance_m(sites[idx - 1], site)
                assert d is not None
                t += d / (speed / 3.6)
            devices = [dev(site)] + ([dev(site, 2)] if rng.random() < duplicate_share else [])
            for n, device in enumerate(devices):
                off = offsets.get(device, 0.0) + drifts.get(device, 0.0) * (t - t0) / 3600
                out.append(
                    sighting(
                        site,
                        t + off + (rng.uniform(0, 0.9) if n else 0.0),
                        plate_no=plate,
                        device_id=device,
                        speed_kmh=round(speed + rng.gauss(0, 3), 1),
                        plate_confidence=95.0,
                        vehicle_class="K33",
                    )
                )
    out.sort(key=lambda s: (s.t, s.ref))
    return out


def feed(model: DeviceClocks, sightings: Sequence[Sighting], *, until: float | None = None) -> None:
    for s in sightings:
        model.observe(s)
    if until is not None:  # a passage far ahead moves the watermark on (end of input)
        model.observe(sighting(CHAIN[0], until, plate_no="冀A99999", plate_confidence=95.0))


def truth(offsets: Mapping[str, float], drifts: Mapping[str, float], device: str, t: float) -> float:
    return offsets.get(device, 0.0) + drifts.get(device, 0.0) * (t - T0) / 3600


OFF = {dev(CHAIN[3]): 200.0, dev(CHAIN[7]): -120.0, dev(CHAIN[11]): 60.0}


class TestRecovery:
    def test_offsets_are_recovered_within_a_few_seconds(self) -> None:
        ctx = context()
        model = DeviceClocks(ctx)
        end = T0 + 3 * 3600
        feed(model, traffic(ctx, 1500, offsets=OFF), until=end + 2000)
        t = end
        for site in CHAIN:
            device = dev(site)
            est = model.estimate(device, t)
            assert est is not None, device
            assert est.established, device
            assert abs(est.offset_at(t) - truth(OFF, {}, device, t)) <= 3.0, (device, est)
        # the latest estimate, from the thinning traffic at the end
        assert model.offset_s(dev(CHAIN[3])) == pytest.approx(200.0, abs=5.0)
        assert model.offset_s(dev(CHAIN[5])) == pytest.approx(0.0, abs=5.0)

    def test_a_clock_so_far_behind_that_the_reads_come_in_reverse_order(self) -> None:
        # CHAIN[4] → CHAIN[5] is 9.5 km (≈ 340 s): 400 s behind, the later site reports first
        ctx = context()
        offsets = {dev(CHAIN[5]): -400.0}
        model = DeviceClocks(ctx)
        end = T0 + 3 * 3600
        feed(model, traffic(ctx, 1500, offsets=offsets), until=end + 2000)
        est = model.estimate(dev(CHAIN[5]), end)
        assert est is not None and est.established
        assert est.offset_at(end) == pytest.approx(-400.0, abs=3.0)

    def test_drift_is_estimated_and_extrapolated(self) -> None:
        ctx = context()
        offsets = {dev(CHAIN[6]): 90.0}
        drifts = {dev(CHAIN[6]): 20.0}  # s/h
        model = DeviceClocks(ctx)
        end = T0 + 5 * 3600
        feed(model, traffic(ctx, 2500, span_s=5 * 3600, offsets=offsets, drifts=drifts), until=end + 2000)
        device = dev(CHAIN[6])
        est = model.estimate(device, end)
        assert est is not None and est.established
        assert est.drift_s_per_h == pytest.approx(20.0, abs=4.0)
        assert est.offset_at(end) == pytest.approx(truth(offsets, drifts, device, end), abs=4.0)
        assert model.drift_s_per_h(device) == pytest.approx(20.0, abs=4.0)

    def test_a_second_camera_that_only_reports_duplicates(self) -> None:
        ctx = context()
        offsets = {dev(CHAIN[2], 2): 150.0}
        model = DeviceClocks(ctx)
        end = T0 + 3 * 3600
        feed(model, traffic(ctx, 1500, offsets=offsets, duplicate_share=0.05), until=end + 2000)
        est = model.estimate(dev(CHAIN[2], 2), end)
        assert est is not None
        assert est.offset_at(end) == pytest.approx(150.45, abs=3.0)

    def test_report_lists_every_device_with_its_estimate(self) -> None:
        ctx = context()
        model = DeviceClocks(ctx)
        end = T0 + 3 * 3600
        feed(model, traffic(ctx, 1500, offsets=OFF), until=end + 2000)
        rows = {r["device_id"]: r for r in model.report()}
        assert set(rows) == {dev(s) for s in CHAIN}
        row = rows[dev(CHAIN[7])]
        assert row["site_id"] == CHAIN[7]
        assert row["offset_s"] == pytest.approx(-120.0, abs=3.0)
        assert row["established"] is True
        assert model.offset_s("unknown-device") is None
        assert model.drift_s_per_h("unknown-device") is None


class TestEventTime:
    def test_nothing_is_known_before_the_traffic_has_settled(self) -> None:
        ctx = context()
        model = DeviceClocks(ctx)
        sightings = traffic(ctx, 300, span_s=1800, offsets={dev(CHAIN[3]): 200.0})
        feed(model, sightings[:50])
        assert model.estimate(dev(CHAIN[3]), sightings[49].t) is None

    def test_the_estimate_for_an_event_comes_only_from_passages_before_it(self) -> None:
        """What arrives later (in event time) never changes the estimate for an earlier event."""
        ctx = context()
        offsets = {dev(CHAIN[3]): 200.0}
        early = traffic(ctx, 1000, span_s=2 * 3600, offsets=offsets, seed=1)
        late = traffic(ctx, 1000, t0=T0 + 2 * 3600, span_s=2 * 3600, offsets={dev(CHAIN[3]): -50.0}, seed=2)
        a, b = DeviceClocks(ctx), DeviceClocks(ctx)
        feed(a, early + late, until=T0 + 6 * 3600)
        feed(b, early, until=T0 + 6 * 3600)
        t = T0 + 2 * 3600 + 600  # the estimate for t is solved by t − margin (1200 s): early passages only
        ea, eb = a.estimate(dev(CHAIN[3]), t), b.estimate(dev(CHAIN[3]), t)
        assert ea is not None and eb is not None
        assert ea == eb
        assert ea.offset_s == pytest.approx(200.0, abs=3.0)

    def test_the_range_of_offsets_a_clock_had_lately(self) -> None:
        # CHAIN[3]'s clock is 200 s ahead for two hours, then reset
        ctx = context()
        before = traffic(ctx, 1000, span_s=2 * 3600, offsets={dev(CHAIN[3]): 200.0}, seed=1)
        after = traffic(ctx, 1000, t0=T0 + 2 * 3600, span_s=2 * 3600, seed=2)
        model = DeviceClocks(ctx)
        feed(model, before + after, until=T0 + 6 * 3600)
        t = T0 + 4 * 3600
        est = model.estimate(dev(CHAIN[3]), t)
        assert est is not None and est.offset_at(t) == pytest.approx(0.0, abs=3.0)
        low, high, established = model.offset_range(dev(CHAIN[3]), t, 3 * 3600) or (99, 99, False)
        assert low == pytest.approx(0.0, abs=3.0)
        assert high == pytest.approx(200.0, abs=3.0)
        assert established is True
        low, high, established = model.offset_range(dev(CHAIN[5]), t, 3 * 3600) or (99, 99, False)
        assert abs(low) <= 3.0 and abs(high) <= 3.0
        assert model.offset_range("unknown-device", t, 3 * 3600) is None
        assert model.offset_range(dev(CHAIN[3]), T0 + 600, 3 * 3600) is None  # nothing solved yet

    def test_estimates_do_not_depend_on_arrival_order_within_the_lateness(self) -> None:
        ctx = context()
        sightings = traffic(ctx, 800, span_s=2 * 3600, offsets={dev(CHAIN[3]): 200.0, dev(CHAIN[9]): -80.0})
        rng = random.Random(7)
        shuffled = sorted(sightings, key=lambda s: s.t + rng.uniform(0, 599))  # every one on time
        a, b = DeviceClocks(ctx), DeviceClocks(ctx)
        feed(a, sightings, until=T0 + 4 * 3600)
        feed(b, shuffled, until=T0 + 4 * 3600)
        assert a.report() == b.report()
        t = T0 + 2 * 3600
        for site in CHAIN:
            assert a.estimate(dev(site), t) == b.estimate(dev(site), t)

    def test_without_lateness_every_passage_is_final_at_once(self) -> None:
        ctx = context()
        model = DeviceClocks(ctx, lateness_s=0)
        feed(model, traffic(ctx, 1000, offsets={dev(CHAIN[3]): 200.0}), until=T0 + 4 * 3600)
        assert model.offset_s(dev(CHAIN[3])) == pytest.approx(200.0, abs=3.0)

    def test_a_passage_older_than_the_vehicles_last_final_one_is_dropped(self) -> None:
        ctx = context()
        model = DeviceClocks(ctx, lateness_s=60)
        a, b = (
            sighting(CHAIN[0], T0, plate_confidence=95.0),
            sighting(CHAIN[1], T0 + 200, plate_confidence=95.0),
        )
        late = sighting(CHAIN[2], T0 + 100, plate_confidence=95.0)
        feed(model, [a, b, sighting(CHAIN[5], T0 + 1000, plate_no="冀A99999"), late])
        assert model.dropped_late == 1


class TestSnapshot:
    def test_restore_resumes_where_it_was(self) -> None:
        ctx = context()
        sightings = traffic(ctx, 1000, offsets={dev(CHAIN[3]): 200.0})
        whole = DeviceClocks(ctx)
        feed(whole, sightings, until=T0 + 5 * 3600)
        first = DeviceClocks(ctx)
        half = len(sightings) // 2
        feed(first, sightings[:half])
        data = first.snapshot()
        again = DeviceClocks(ctx)
        again.restore(data)
        feed(again, sightings[half:], until=T0 + 5 * 3600)
        assert again.report() == whole.report()

    def test_a_snapshot_of_another_format_is_refused(self) -> None:
        ctx = context()
        with pytest.raises(ValueError, match="format"):
            DeviceClocks(ctx).restore({"format": 99})


class TestConfig:
    def test_a_bad_value_names_the_field(self) -> None:
        with pytest.raises(ConfigError, match=r"engine\.clocks\.bin_s"):
            ClockConfig.from_config({"bin_s": 0})

    def test_unknown_keys_are_refused(self) -> None:
        with pytest.raises(ConfigError, match=r"engine\.clocks\.lateness"):
            ClockConfig.from_config({"lateness": 60})

    def test_plausible_speeds_must_be_ordered(self) -> None:
        with pytest.raises(ConfigError, match="plausible_kmh"):
            ClockConfig.from_config({"plausible_kmh": [200, 100]})

    def test_the_lateness_follows_the_engine(self) -> None:
        ctx = context()
        assert DeviceClocks(ctx, lateness_s=120).config.lateness_s == 120
        # by default: the core's default lateness, plus how far its quantile watermark may lag
        assert DeviceClocks(ctx.sites).config.lateness_s == 600 + WATERMARK_MAX_LAG_S
