"""Shared fixtures. Tests use loopback only."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

TINY_MODEL_TOML = """
[[models]]
name = "vidgate-tiny"
sizes = ["160x96", "96x160"]
seconds = ["1", "2"]
default_size = "160x96"
default_seconds = "1"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def tiny_config(tmp_path: Path) -> Path:
    """A config adding a fast model (tiny frames, 1-2 s) next to the OpenAI defaults."""
    path = tmp_path / "vidgate.toml"
    path.write_text(TINY_MODEL_TOML)
    return path
