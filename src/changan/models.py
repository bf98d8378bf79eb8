"""Import every table so that ``Base.metadata`` is complete (migrations, tests)."""

from changan.alerts.models import Alert
from changan.auth.models import ApiToken, AuditRecord, User
from changan.devices.models import Device, DeviceKeyRow
from changan.dispatch.models import Task
from changan.engine.models import Detection, EngineSnapshot, EngineState
from changan.kit.db import Base
from changan.kit.outbox import OutboxMessage
from changan.limits.models import SpeedLimit
from changan.passages.models import DeadLetter, Passage
from changan.policy.models import PolicyRow
from changan.registry.models import RegistryRow
from changan.violations.models import Violation
from changan.watchlist.models import WatchlistEntry

__all__ = [
    "Alert",
    "ApiToken",
    "AuditRecord",
    "Base",
    "DeadLetter",
    "Detection",
    "Device",
    "DeviceKeyRow",
    "EngineSnapshot",
    "EngineState",
    "OutboxMessage",
    "Passage",
    "PolicyRow",
    "RegistryRow",
    "SpeedLimit",
    "Task",
    "User",
    "Violation",
    "WatchlistEntry",
]
