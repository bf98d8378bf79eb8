"""Settings come from CHANGAN_* variables and a TOML file, typed and validated."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from changan.kit.settings import Settings


class TestSettings:
    def test_environment_overrides_toml(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        toml = tmp_path / "changan.toml"
        toml.write_text('port = 9001\ndatabase_url = "sqlite:///x.db"\n', encoding="utf-8")
        monkeypatch.setenv("CHANGAN_CONFIG", str(toml))
        monkeypatch.setenv("CHANGAN_PORT", "9002")
        s = Settings()
        assert (s.port, s.database_url) == (9002, "sqlite:///x.db")

    def test_bad_value_names_the_field(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CHANGAN_PORT", "70000")
        with pytest.raises(ValidationError) as err:
            Settings()
        assert err.value.errors()[0]["loc"] == ("port",)

    def test_unknown_key_in_toml_is_refused(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        toml = tmp_path / "changan.toml"
        toml.write_text("prot = 1\n", encoding="utf-8")
        monkeypatch.setenv("CHANGAN_CONFIG", str(toml))
        with pytest.raises(ValidationError) as err:
            Settings()
        assert err.value.errors()[0]["loc"] == ("prot",)
