"""Shared fixtures for the network tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from changan.network import Network

SMALL = Path(__file__).with_name("small_network.yaml")


@pytest.fixture(scope="session")
def small_path() -> Path:
    return SMALL


@pytest.fixture(scope="session")
def small() -> Network:
    return Network.load(SMALL)


@pytest.fixture(scope="session")
def liaocheng() -> Network:
    return Network.load_default()
