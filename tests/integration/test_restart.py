"""Stop the server mid-render and start it again on the same data dir: nothing is left hanging."""

import asyncio

from tests.helpers import image_bytes
from tests.integration.conftest import AUTH, make_settings, start, stop
from tests.integration.test_grpc_api import create, wait_terminal
from vidgate.gen.videos.v1 import videos_pb2


async def wait_in_progress(running, video_id):
    for _ in range(400):
        video = await running.stub.GetVideo(videos_pb2.GetVideoRequest(video_id=video_id), metadata=AUTH)
        if video.status == "in_progress" and video.progress > 0:
            return video
        await asyncio.sleep(0.025)
    raise AssertionError("video never started")


async def test_restart_resumes_interrupted_and_queued_work(tmp_path, tiny_config):
    settings = make_settings(tmp_path / "data", tiny_config, max_concurrent_renders=1)
    first = await start(settings)
    slow = await create(first, prompt="interrupted", model="sora-2", seconds="8")
    waiting = await create(first, prompt="still queued", model="vidgate-tiny")
    before = await wait_in_progress(first, slow.id)
    await stop(first)  # cancels the render; the records stay active

    second = await start(settings)
    try:
        seen = [(v.status, v.progress) async for v in second.stub.WatchVideo(
            videos_pb2.WatchVideoRequest(video_id=slow.id), metadata=AUTH)]
        assert seen[-1] == ("completed", 100)
        assert all(status != "queued" and progress >= before.progress for status, progress in seen)  # never backwards
        assert (await wait_terminal(second, waiting.id)).status == "completed"
    finally:
        await stop(second)


async def test_restart_fails_work_that_cannot_resume_with_a_reason(tmp_path, tiny_config):
    settings = make_settings(tmp_path / "data", tiny_config, max_concurrent_renders=1)
    first = await start(settings)
    blocker = await create(first, prompt="occupies the only slot", model="sora-2", seconds="8")
    with_image = await create(first, prompt="needs its image", model="vidgate-tiny",
                              input_reference=videos_pb2.InputReference(image_data=image_bytes(160, 96)))
    await wait_in_progress(first, blocker.id)
    await stop(first)
    (settings.content_dir / with_image.id / "input_reference").unlink()

    second = await start(settings)
    try:
        failed = await wait_terminal(second, with_image.id)
        assert failed.status == "failed"
        assert failed.error.code == "input_reference_missing" and failed.error.message
        assert (await wait_terminal(second, blocker.id)).status == "completed"
    finally:
        await stop(second)
