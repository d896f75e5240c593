"""Scratch directories of in-flight generations (blocking: call through asyncio.to_thread)."""

from __future__ import annotations

import shutil
from pathlib import Path


def fresh_dir(path: Path) -> None:
    """An empty directory at `path`, whatever a crashed earlier attempt left there."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)


def remove_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
