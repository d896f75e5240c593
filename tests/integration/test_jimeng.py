"""Jimeng behind /v1/videos: a fake Volcengine endpoint that checks signatures, the real service on port 0."""

from __future__ import annotations

import base64

import pytest

from tests.fakes.host import serving
from tests.fakes.jimeng import ACCESS_KEY, SECRET_KEY, FakeJimeng
from tests.helpers import image_bytes
from tests.integration.conftest import AUTH, start, stop
from tests.integration.test_grpc_api import create, wait_terminal
from vidgate.config import load_settings
from vidgate.gen.videos.v1 import videos_pb2

CONFIG = """
[providers.jimeng]
kind = "jimeng"
base_url = "{base}"
access_key = "${{JM_AK}}"
secret_key = "${{JM_SK}}"
poll_interval_seconds = 0.05
requests_per_second = 50
allow_private_hosts = ["127.0.0.1"]

[[models]]
name = "jimeng-3"
provider = "jimeng"
upstream_model = "jimeng-v30"
sizes = ["1280x720", "720x1280", "960x960"]
seconds = ["5", "10"]
"""


@pytest.fixture
async def jimeng(vendor_mp4):
    fake = FakeJimeng(video=vendor_mp4)
    async with serving(fake.app()) as fake.base:
        yield fake


async def running_with(tmp_path, fake, secret=SECRET_KEY):
    config = tmp_path / "jimeng.toml"
    config.write_text(CONFIG.format(base=fake.base))
    settings = load_settings(environ={"JM_AK": ACCESS_KEY, "JM_SK": secret},
                             flags={"data_dir": tmp_path / "data", "config": config, "grpc_port": 0,
                                    "bootstrap_key": AUTH[0][1].split()[-1]})
    return await start(settings)


async def test_text_and_image_to_video_with_signed_requests(tmp_path, jimeng):
    server = await running_with(tmp_path, jimeng)
    try:
        video = await create(server, prompt="a cat", model="jimeng-3", size="720x1280", seconds="10")
        done = await wait_terminal(server, video.id)
        assert done.status == "completed", done.error
        assert jimeng.submits[-1] == {"req_key": "jimeng_t2v_v30", "prompt": "a cat", "seed": -1, "frames": 241,
                                      "aspect_ratio": "9:16"}
        image = image_bytes(1280, 720)
        video = await create(server, prompt="move", model="jimeng-3", size="1280x720", seconds="5",
                             input_reference=videos_pb2.InputReference(image_data=image))
        assert (await wait_terminal(server, video.id)).status == "completed"
        body = jimeng.submits[-1]
        assert body["req_key"] == "jimeng_i2v_first_v30" and base64.b64decode(body["binary_data_base64"][0]) == image
        assert "aspect_ratio" not in body  # polled with the i2v req_key, or the fake would say not_found
    finally:
        await stop(server)


async def test_qps_limit_is_retried_and_generating_is_not_failure(tmp_path, jimeng):
    jimeng.codes = [50429, 50430]
    jimeng.polls_until_done = 4
    server = await running_with(tmp_path, jimeng)
    try:
        video = await create(server, prompt="a cat", model="jimeng-3", size="960x960", seconds="5")
        assert (await wait_terminal(server, video.id)).status == "completed"
        assert jimeng.submits[-1]["aspect_ratio"] == "1:1" and len(jimeng.submits) == 1
    finally:
        await stop(server)


async def test_bad_signature_fails_the_video_with_a_reason(tmp_path, jimeng):
    server = await running_with(tmp_path, jimeng, secret="not-the-secret")
    try:
        video = await create(server, prompt="a cat", model="jimeng-3", size="1280x720", seconds="5")
        failed = await wait_terminal(server, video.id)
        assert failed.status == "failed" and failed.error.code == "upstream_auth_failed"
        assert "SignatureDoesNotMatch" in failed.error.message
    finally:
        await stop(server)
