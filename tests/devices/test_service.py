"""Device registration: one at a time with its own key, or in bulk behind a platform key."""

from __future__ import annotations

from sqlalchemy import func, select

from changan.auth.principal import SYSTEM
from changan.devices.models import Device, DeviceKeyRow
from changan.devices.service import add_device, import_devices
from changan.web.context import AppContext


class TestRegistration:
    def test_single_device_gets_a_key_bulk_import_does_not(self, ctx: AppContext) -> None:
        sites = sorted(ctx.network.sites)[:3]
        with ctx.uow() as session:
            _, key = add_device(
                session, SYSTEM, ctx.network, device_id="one", site_id=sites[0], now=ctx.clock()
            )
            added, known, errors = import_devices(
                session,
                SYSTEM,
                ctx.network,
                [
                    {"device_id": "two", "site_id": sites[1]},
                    {"device_id": "one", "site_id": sites[0]},
                    {"device_id": "three", "site_id": "nowhere"},
                ],
                now=ctx.clock(),
            )
        assert key.startswith("cak_")
        assert (added, known) == (1, 1)
        assert len(errors) == 1
        assert errors[0].startswith("第 3 行 site_id")
        with ctx.reader() as session:
            assert session.scalar(select(func.count()).select_from(Device)) == 2
            assert session.scalars(select(DeviceKeyRow.device_id)).all() == ["one"]
