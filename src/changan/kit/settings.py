"""Typed process settings.

One :class:`Settings` object per process, built in the composition root (CLI or
app factory) and passed down; nothing reads the environment at import time.
Sources, highest priority first: keyword arguments, ``CHANGAN_*`` environment
variables, the TOML file named by ``CHANGAN_CONFIG`` (default ``changan.toml``
in the working directory, if present), then the defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _toml_path() -> Path:
    return Path(os.environ.get("CHANGAN_CONFIG", "changan.toml"))


class Settings(BaseSettings):
    """Process configuration. Every duration and size carries its unit in its name."""

    model_config = SettingsConfigDict(env_prefix="CHANGAN_", extra="forbid", validate_default=True)

    database_url: str = Field(
        default="sqlite:///var/changan.db",
        description="SQLAlchemy URL: sqlite:///path (embedded) or postgresql+psycopg://user@host/db",
    )
    var_dir: Path = Field(
        default=Path("var"), description="Working directory for the database, images and logs"
    )
    image_dir: Path | None = Field(
        default=None, description="Content-addressed image store; default var_dir/images"
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_json: bool = Field(default=False, description="Emit JSON log lines instead of console lines")
    host: str = Field(default="127.0.0.1", description="HTTP bind address")
    port: int = Field(default=8080, ge=1, le=65535, description="HTTP port")
    network_file: Path | None = Field(
        default=None, description="Road network YAML; default: embedded Liaocheng"
    )
    ingest_max_batch: int = Field(default=10_000, ge=1, le=100_000, description="Most passages in one POST")
    ingest_max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024, description="Largest accepted body")
    ingest_future_skew_s: int = Field(
        default=300,
        ge=0,
        le=86_400,
        description="How far in the future a pass_time may lie (device clocks drift)",
    )
    ingest_max_age_days: int = Field(default=30, ge=1, description="How far in the past a pass_time may lie")
    engine_batch_size: int = Field(
        default=2_000, ge=1, le=100_000, description="Passages per engine transaction"
    )
    engine_idle_wait_s: float = Field(
        default=0.2, gt=0, le=10, description="Engine sleep when the log is idle"
    )
    engine_lateness_s: float = Field(
        default=600,
        ge=0,
        le=6 * 3600,
        description="Event-time lateness bound: a detection settles once the highest event time seen "
        "is this far past its decisive passage",
    )
    engine_snapshot_every_s: float = Field(
        default=300,
        gt=0,
        description="How often the engine saves its in-memory state (recovery replays "
        "the log from the last snapshot)",
    )
    engine_detectors: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Per-detector thresholds, [engine_detectors.<name>] in TOML; unknown keys are refused",
    )
    session_secret: str = Field(
        default="change-me-in-production", description="Secret for UI session cookies"
    )
    demo_speedup: float = Field(
        default=10.0, gt=0, le=1000, description="Simulated seconds per real second in demo"
    )

    @property
    def images_path(self) -> Path:
        return self.image_dir if self.image_dir is not None else self.var_dir / "images"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=_toml_path()),
        )


def load_settings(**overrides: Any) -> Settings:
    """Build the settings (environment and TOML file), with explicit overrides on top."""
    return Settings(**overrides)
