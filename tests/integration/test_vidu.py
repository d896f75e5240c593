"""Vidu behind /v1/videos: a strict fake Vidu on loopback, the real service on port 0."""

from __future__ import annotations

import grpc
import pytest

from tests.fakes.host import serving
from tests.fakes.vidu import API_KEY, FakeVidu
from tests.helpers import image_bytes
from tests.integration.conftest import AUTH, start, stop
from tests.integration.test_grpc_api import create, error_detail, wait_terminal
from vidgate.config import load_settings
from vidgate.gen.videos.v1 import videos_pb2

CONFIG = """
[providers.vidu]
kind = "vidu"
base_url = "{base}"
api_key = "${{VIDU_KEY}}"
poll_interval_seconds = 0.05
requests_per_second = 50
allow_private_hosts = ["127.0.0.1"]

[[models]]
name = "vidu-q2"
provider = "vidu"
upstream_model = "viduq2"
sizes = ["1280x720", "720x1280", "1920x1080", "1024x1024"]
seconds = ["4", "5", "8", "12"]
"""


@pytest.fixture
async def server(tmp_path, vendor_mp4):
    fake = FakeVidu(video=vendor_mp4)
    async with serving(fake.app()) as base:
        config = tmp_path / "vidu.toml"
        config.write_text(CONFIG.format(base=base))
        running = await start(load_settings(environ={"VIDU_KEY": API_KEY}, flags={
            "data_dir": tmp_path / "data", "config": config, "grpc_port": 0, "bootstrap_key": AUTH[0][1].split()[-1]}))
        running.fake = fake
        yield running
        await stop(running)


async def test_text_and_image_to_video(server):
    video = await create(server, prompt="astronaut in fog", model="vidu-q2", size="1920x1080", seconds="8")
    assert (await wait_terminal(server, video.id)).status == "completed"
    assert server.fake.submits[-1] == {"model": "viduq2", "prompt": "astronaut in fog", "duration": 8,
                                       "resolution": "1080p", "aspect_ratio": "16:9"}
    video = await create(server, prompt="move", model="vidu-q2", size="720x1280", seconds="5",
                         input_reference=videos_pb2.InputReference(image_data=image_bytes(720, 1280)))
    assert (await wait_terminal(server, video.id)).status == "completed"
    body = server.fake.submits[-1]
    assert body["images"][0].startswith("data:image/png;base64,") and body["resolution"] == "720p"


async def test_sizes_and_seconds_vidu_cannot_do_are_400s(server):
    for size, seconds, param in (("1024x1024", "5", "size"), ("1280x720", "12", "seconds")):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await create(server, prompt="x", model="vidu-q2", size=size, seconds=seconds)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and error_detail(err.value).param == param
    assert server.fake.submits == []


async def test_err_code_is_surfaced(server):
    server.fake.fail_next_with = "CreationPolicyViolation"
    video = await create(server, prompt="x", model="vidu-q2", size="1280x720", seconds="4")
    failed = await wait_terminal(server, video.id)
    assert failed.error.code == "content_policy_violation" and "CreationPolicyViolation" in failed.error.message


async def test_start_and_end_frames(server):
    import base64

    from google.protobuf import struct_pb2

    end = "data:image/png;base64," + base64.b64encode(image_bytes(32, 32)).decode()
    meta = struct_pb2.Struct()
    meta.update({"end_image": end})
    video = await create(server, prompt="from here to there", model="vidu-q2", size="1280x720", seconds="8",
                         input_reference=videos_pb2.InputReference(image_data=image_bytes(1280, 720)), metadata=meta)
    assert (await wait_terminal(server, video.id)).status == "completed"
    body = server.fake.submits[-1]
    assert len(body["images"]) == 2 and body["images"][1] == end and "end_image" not in body
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await create(server, prompt="x", model="vidu-q2", size="1280x720", seconds="5", metadata=meta)
    assert error_detail(err.value).param == "metadata.end_image"
