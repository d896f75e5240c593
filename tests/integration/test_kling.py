"""Kling behind /v1/videos: a fake Kling on loopback, the real service on port 0."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from pathlib import Path

import grpc
import pytest
from google.protobuf import struct_pb2

from tests.fakes.host import serving
from tests.fakes.kling import ACCESS_KEY, SECRET_KEY, FakeKling
from tests.helpers import image_bytes, image_info
from tests.integration.conftest import AUTH, start, stop
from tests.integration.test_grpc_api import create, download, error_detail, wait_terminal
from vidgate.gen.videos.v1 import videos_pb2

CONFIG = """
[providers.kling]
kind = "kling"
base_url = "{base}"
access_key = "${{KLING_AK}}"
secret_key = "${{KLING_SK}}"
timeout_seconds = {timeout}
poll_interval_seconds = 0.05
requests_per_second = 50
retry_backoff_seconds = 0.05
allow_private_hosts = {allow}

[providers.kling-backup]
kind = "kling"
base_url = "{base}"
access_key = "${{KLING_AK}}"
secret_key = "${{KLING_SK}}"
poll_interval_seconds = 0.05
retry_backoff_seconds = 0.05
allow_private_hosts = ["127.0.0.1"]

[[models]]
name = "kling-ha"
sizes = ["1280x720"]
seconds = ["5"]
routes = [{{ provider = "kling", model = "kling-v2-6" }}, {{ provider = "kling-backup", model = "kling-v2-5-turbo" }}]

[[models]]
name = "kling-v2-6"
provider = "kling"
sizes = ["1280x720", "720x1280", "1920x1080"]
seconds = ["5", "10", "8"]
"""


@pytest.fixture
async def kling(vendor_mp4):
    fake = FakeKling(video=vendor_mp4)
    async with serving(fake.app()) as fake.base:
        yield fake


def settings_for(tmp_path: Path, fake: FakeKling, secret: str = SECRET_KEY, timeout: float = 5,
                 allow: str = '["127.0.0.1"]'):
    config = tmp_path / "kling.toml"
    config.write_text(CONFIG.format(base=fake.base, timeout=timeout, allow=allow))
    from vidgate.config import load_settings

    return load_settings(environ={"KLING_AK": ACCESS_KEY, "KLING_SK": secret}, flags={"data_dir": tmp_path / "data", "config": config, "grpc_port": 0,
                                                    "bootstrap_key": AUTH[0][1].split()[-1]})


@pytest.fixture
async def server(tmp_path, kling):
    running = await start(settings_for(tmp_path, kling))
    yield running
    await stop(running)


async def test_text_to_video_maps_exactly_and_archives(server, kling, vendor_mp4):
    video = await create(server, prompt="a red fox in snow", model="kling-v2-6", size="1280x720", seconds="10")
    assert video.status == "queued"
    done = await wait_terminal(server, video.id)
    assert done.status == "completed", done.error
    body = kling.submits[-1]
    assert body == {"model_name": "kling-v2-6", "prompt": "a red fox in snow", "duration": "10", "mode": "std",
                    "aspect_ratio": "16:9", "external_task_id": video.id}
    chunks, _ = await download(server, video.id)
    assert hashlib.sha256(b"".join(c.data for c in chunks)).digest() == hashlib.sha256(vendor_mp4).digest()
    chunks, _ = await download(server, video.id, "thumbnail")
    assert image_info(b"".join(c.data for c in chunks))[0] == "WEBP"
    kling.file_gone = True  # the vendor URL expires: the stored copy is what /content serves
    chunks, _ = await download(server, video.id)
    assert len(b"".join(c.data for c in chunks)) == len(vendor_mp4)


async def test_image_to_video_sends_raw_base64_and_pro_mode(server, kling):
    image = image_bytes(1920, 1080)
    video = await create(server, prompt="animate", model="kling-v2-6", size="1920x1080", seconds="5",
                         input_reference=videos_pb2.InputReference(image_data=image))
    assert (await wait_terminal(server, video.id)).status == "completed"
    body = kling.submits[-1]
    assert base64.b64decode(body["image"]) == image and "aspect_ratio" not in body and body["mode"] == "pro"


async def test_what_the_route_cannot_do_is_a_400(server, kling):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await create(server, prompt="x", model="kling-v2-6", size="1280x720", seconds="8")
    assert error_detail(err.value).param == "seconds" and "5, 10" in err.value.details()
    meta = struct_pb2.Struct()
    meta.update({"model_name": "kling-v1"})
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await create(server, prompt="x", model="kling-v2-6", size="1280x720", seconds="5", metadata=meta)
    assert error_detail(err.value).param == "metadata"
    assert kling.submits == []


async def test_metadata_passes_allowed_options(server, kling):
    meta = struct_pb2.Struct()
    meta.update({"negative_prompt": "blurry", "sound": "off"})
    video = await create(server, prompt="x", model="kling-v2-6", size="720x1280", seconds="5", metadata=meta)
    assert (await wait_terminal(server, video.id)).status == "completed"
    assert kling.submits[-1]["negative_prompt"] == "blurry" and kling.submits[-1]["aspect_ratio"] == "9:16"


async def test_vendor_failure_keeps_its_message(server, kling):
    kling.fail_next_with = "Image pixel is invalid"
    video = await create(server, prompt="x", model="kling-v2-6", size="1280x720", seconds="5")
    failed = await wait_terminal(server, video.id)
    assert failed.status == "failed" and failed.error.code == "upstream_generation_failed"
    assert "Image pixel is invalid" in failed.error.message


async def test_rate_limits_and_errors_are_retried(server, kling):
    kling.inject = ["429", "500", "garbage"]  # three failed submit attempts, the fourth is accepted
    video = await create(server, prompt="x", model="kling-v2-6", size="1280x720", seconds="5")
    assert (await wait_terminal(server, video.id)).status == "completed"
    assert len(kling.submits) == 1


async def test_expired_vendor_url_before_archive_fails_clearly(server, kling):
    kling.file_gone = True
    video = await create(server, prompt="x", model="kling-v2-6", size="1280x720", seconds="5")
    failed = await wait_terminal(server, video.id)
    assert failed.status == "failed" and failed.error.code == "upstream_content_expired"


async def test_wrong_credentials_fail_without_leaking_them(tmp_path, kling):
    running = await start(settings_for(tmp_path, kling, secret="SK-wrong-secret-0123456789abcdef0123"))
    try:
        video = await create(running, prompt="x", model="kling-v2-6", size="1280x720", seconds="5")
        failed = await wait_terminal(running, video.id)
        assert failed.status == "failed" and failed.error.code == "upstream_auth_failed"
        assert "SK-wrong" not in failed.error.message
    finally:
        await stop(running)


async def test_restart_resumes_polling_without_resubmitting(tmp_path, kling):
    kling.polls_until_done = 10**9  # stays "processing" until we say so
    settings = settings_for(tmp_path, kling)
    first = await start(settings)
    video = await create(first, prompt="x", model="kling-v2-6", size="1280x720", seconds="5")
    for _ in range(200):
        if kling.tasks and next(iter(kling.tasks.values())).polls:
            break
        await asyncio.sleep(0.02)
    await stop(first)
    kling.polls_until_done = 0
    second = await start(settings)
    try:
        assert (await wait_terminal(second, video.id)).status == "completed"
        assert len(kling.submits) == 1
    finally:
        await stop(second)


async def test_lost_submit_answer_is_recovered_by_external_id(tmp_path, kling):
    kling.inject = ["lost"]
    running = await start(settings_for(tmp_path, kling, timeout=0.5))
    try:
        video = await create(running, prompt="x", model="kling-v2-6", size="1280x720", seconds="5")
        assert (await wait_terminal(running, video.id)).status == "completed"
        assert len(kling.submits) == 1
    finally:
        await stop(running)


async def test_no_answer_to_a_submit_is_never_resent(tmp_path, kling):
    kling.inject = ["hang"]
    running = await start(settings_for(tmp_path, kling, timeout=0.5))
    try:
        video = await create(running, prompt="x", model="kling-v2-6", size="1280x720", seconds="5")
        failed = await wait_terminal(running, video.id)
        assert failed.status == "failed" and failed.error.code == "upstream_submit_ambiguous"
        assert "did not answer" in failed.error.message
        await asyncio.sleep(0.3)
        assert kling.submits == []  # the hung request was the only one sent
    finally:
        await stop(running)


async def test_failover_to_the_next_route_after_retryable_refusals(server, kling):
    kling.inject = ["429", "429", "429", "429"]  # the first route refuses every attempt
    video = await create(server, prompt="x", model="kling-ha", size="1280x720", seconds="5")
    assert (await wait_terminal(server, video.id)).status == "completed"
    assert [s["model_name"] for s in kling.submits] == ["kling-v2-5-turbo"]


async def test_a_vendor_outage_ends_in_failed_videos_not_hung_ones(server, kling, monkeypatch):
    from vidgate.worker import remote

    monkeypatch.setattr(remote, "OUTAGE_SECONDS", 0.5)
    video = await create(server, prompt="x", model="kling-v2-6", size="1280x720", seconds="5")
    for _ in range(200):
        if kling.submits:
            break
        await asyncio.sleep(0.01)
    kling.inject = ["500"] * 1000  # every poll fails from now on
    failed = await wait_terminal(server, video.id)
    assert failed.status == "failed" and failed.error.code == "upstream_unavailable"
    assert "Kling error 5000" in failed.error.message


async def test_restart_during_submit_never_resends(tmp_path, kling):
    kling.inject = ["lost"]  # the task gets created, the answer is late
    settings = settings_for(tmp_path, kling, timeout=10)
    first = await start(settings)
    video = await create(first, prompt="x", model="kling-v2-6", size="1280x720", seconds="5")
    for _ in range(200):
        if kling.submits:
            break
        await asyncio.sleep(0.01)
    await stop(first)  # while the submit is still waiting for its answer
    second = await start(settings)
    try:
        assert (await wait_terminal(second, video.id)).status == "completed"
        assert len(kling.submits) == 1
    finally:
        await stop(second)


async def test_vendor_file_on_a_private_address_is_refused_at_once(tmp_path, kling):
    running = await start(settings_for(tmp_path, kling, allow="[]"))  # the fake's file URL is on 127.0.0.1
    try:
        video = await create(running, prompt="x", model="kling-v2-6", size="1280x720", seconds="5")
        failed = await wait_terminal(running, video.id)
        assert failed.status == "failed" and failed.error.code == "upstream_download_refused"
        assert "non-public address" in failed.error.message
    finally:
        await stop(running)
