"""A real grpc.aio server on 127.0.0.1:0 with SQLite and content in a temp dir."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from vidgate.app import App
from vidgate.auth import create_key
from vidgate.config import Settings, load_settings
from vidgate.gen.videos.v1 import videos_pb2_grpc

BOOTSTRAP = "sk-test-bootstrap"


def make_settings(data_dir: Path, config: Path, **overrides) -> Settings:
    flags = {"data_dir": data_dir, "config": config, "grpc_port": 0, "bootstrap_key": BOOTSTRAP, "poll_after_ms": 50}
    return load_settings(environ={}, flags=flags | overrides)


class Running:
    def __init__(self, app: App, channel: grpc.aio.Channel) -> None:
        self.app = app
        self.channel = channel
        self.stub = videos_pb2_grpc.VideoServiceStub(channel)

    async def new_key(self, name: str = "k", models: frozenset[str] | None = None) -> tuple[tuple[str, str], ...]:
        key = await create_key(self.app.store, name=name, models=models)
        return (("authorization", f"Bearer {key.secret}"),)


async def start(settings: Settings) -> Running:
    app = await App.build(settings)
    await app.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{app.grpc_port}")
    return Running(app, channel)


async def stop(running: Running) -> None:
    await running.channel.close()
    await running.app.stop(grace=0.5)


@pytest.fixture
async def server(tmp_path: Path, tiny_config: Path) -> AsyncIterator[Running]:
    running = await start(make_settings(tmp_path / "data", tiny_config))
    yield running
    await stop(running)


AUTH = (("authorization", f"Bearer {BOOTSTRAP}"),)


@pytest.fixture(scope="session")
def vendor_mp4(tmp_path_factory) -> bytes:
    """The file the fake vendors serve as their finished video: a real small MP4."""
    from vidgate.providers.local.render import render

    out = tmp_path_factory.mktemp("vendor")
    return render(prompt="vendor output", width=160, height=96, seconds=1, image=None, out_dir=out).video.read_bytes()
