"""The local provider as the dispatcher uses it: a worker process per render."""

import asyncio
import hashlib

import pytest

from vidgate.ports import ProviderError, RenderJob
from vidgate.providers.local.provider import LocalRenderer, WorkerProcesses


async def render(renderer, tmp_path, name, prompt, width, height, seconds=1):
    workdir = tmp_path / name
    workdir.mkdir()
    progress = []

    async def on_progress(percent):
        progress.append(percent)

    assets = await renderer.generate(RenderJob("video_x", "m", prompt, width, height, seconds, None), workdir, on_progress)
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (assets.video, assets.thumbnail, assets.spritesheet)]
    return digest, progress


async def test_same_job_same_bytes_and_prompt_changes_them(tmp_path):
    renderer = LocalRenderer(WorkerProcesses())
    # Widths 96 and 1080 are the ones where libx264 varies when one process encodes several videos.
    for width, height in ((96, 160), (1080, 1920)):
        first, progress = await render(renderer, tmp_path, f"a{width}", "same prompt", width, height)
        await render(renderer, tmp_path, f"other{width}", "something else", 160, 96)
        second, _ = await render(renderer, tmp_path, f"b{width}", "same prompt", width, height)
        assert first == second
        assert progress == sorted(progress) and progress[-1] == 100
    reference, _ = await render(renderer, tmp_path, "c", "same prompt", 96, 160)
    different, _ = await render(renderer, tmp_path, "d", "another prompt", 96, 160)
    assert different[0] != reference[0] and different[1] != reference[1]


async def test_cancelling_kills_the_worker(tmp_path):
    renderer = LocalRenderer(WorkerProcesses())
    (tmp_path / "w").mkdir()
    started = asyncio.Event()

    async def on_progress(percent):
        started.set()

    task = asyncio.create_task(renderer.generate(RenderJob("v", "m", "long", 1280, 720, 12, None), tmp_path / "w", on_progress))
    await asyncio.wait_for(started.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    output = tmp_path / "w" / "video.mp4"
    size = output.stat().st_size if output.exists() else 0
    await asyncio.sleep(0.5)
    assert (output.stat().st_size if output.exists() else 0) == size  # the worker stopped writing


async def test_a_broken_job_fails_with_a_reason(tmp_path):
    (tmp_path / "w").mkdir()

    async def ignore(percent):
        pass

    with pytest.raises(ProviderError) as err:
        await LocalRenderer(WorkerProcesses()).generate(RenderJob("v", "m", "x", 160, 96, 1, b"not an image"), tmp_path / "w", ignore)
    assert err.value.code == "render_failed" and "UnidentifiedImageError" in err.value.message
