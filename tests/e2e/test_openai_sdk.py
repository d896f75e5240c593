"""The official openai SDK, unchanged, against vidgate through real Envoy."""

from __future__ import annotations

import asyncio

import openai
import pytest

from tests.e2e.server import ServeProcess
from tests.helpers import image_bytes, image_info, inspect_mp4
from vidgate.config import load_settings
from vidgate.gateway import EnvoyProcess
from tests.conftest import free_port

pytestmark = pytest.mark.e2e


def test_create_and_poll_then_download_every_variant(client: openai.OpenAI):
    video = client.videos.create_and_poll(prompt="a paper boat on a rainy street", model="vidgate-tiny", seconds="2")
    assert (video.status, video.progress, video.object, video.seconds, video.size) == ("completed", 100, "video", "2", "160x96")
    assert isinstance(video.created_at, int) and video.completed_at >= video.created_at and video.expires_at > video.completed_at
    assert video.model_extra["url"].endswith(f"/v1/videos/{video.id}/content")

    info = inspect_mp4(client.videos.download_content(video.id).content)
    assert (info.codec, info.width, info.height, info.frames, info.seconds) == ("h264", 160, 96, 48, 2.0)
    assert info.frames == inspect_mp4(client.videos.download_content(video.id, variant="video").content).frames
    assert image_info(client.videos.download_content(video.id, variant="thumbnail").content)[0] == "WEBP"
    assert image_info(client.videos.download_content(video.id, variant="spritesheet").content)[0] == "JPEG"
    assert client.videos.retrieve(video.id) == video


def test_default_model_with_uploaded_first_frame(client: openai.OpenAI, tmp_path):
    reference = image_bytes(720, 1280, "PNG", colour=(30, 60, 220))
    video = client.videos.create_and_poll(prompt="blue hour", input_reference=("ref.png", reference, "image/png"))
    assert (video.model, video.size, video.seconds, video.status) == ("sora-2", "720x1280", "4", "completed")
    path = tmp_path / "out.mp4"
    client.videos.download_content(video.id).write_to_file(path)
    info = inspect_mp4(path.read_bytes())
    assert (info.width, info.height, info.frames) == (720, 1280, 96)
    r, g, b = info.first_frame.convert("RGB").resize((1, 1)).getpixel((0, 0))
    assert abs(r - 30) < 8 and abs(g - 60) < 8 and abs(b - 220) < 8  # the upload is the first frame


def test_remix_list_and_delete(fresh_client: openai.OpenAI):
    source = fresh_client.videos.create_and_poll(prompt="a red kite", model="vidgate-tiny")
    remix = fresh_client.videos.remix(source.id, prompt="a blue kite")
    assert (remix.remixed_from_video_id, remix.status, remix.prompt) == (source.id, "queued", "a blue kite")
    remix = fresh_client.videos.poll(remix.id)
    assert remix.status == "completed"
    more = [fresh_client.videos.create(prompt=f"kite {i}", model="vidgate-tiny").id for i in range(3)]

    everything = [v.id for v in fresh_client.videos.list(limit=2)]  # auto-paginates with after=
    assert everything == [*reversed(more), remix.id, source.id]
    pages = list(fresh_client.videos.list(limit=2, order="asc").iter_pages())
    assert [[v.id for v in p.data] for p in pages] == [[source.id, remix.id], more[:2], more[2:]]
    assert pages[-1].has_more is False

    deleted = fresh_client.videos.delete(source.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (source.id, "video.deleted", True)
    with pytest.raises(openai.NotFoundError):
        fresh_client.videos.retrieve(source.id)
    with pytest.raises(openai.NotFoundError):
        fresh_client.videos.download_content(source.id)


def test_error_classes_and_bodies(serve: ServeProcess, client: openai.OpenAI):
    with pytest.raises(openai.BadRequestError) as err:
        client.videos.create(prompt="x", size="1920x1080")
    assert (err.value.code, err.value.param, err.value.type) == ("invalid_parameter", "size", "invalid_request_error")
    assert "Allowed values: 720x1280, 1280x720" in err.value.message

    with pytest.raises(openai.BadRequestError) as err:
        client.videos.create(prompt="   ")
    assert err.value.param == "prompt"

    bad = openai.OpenAI(base_url=serve.base_url, api_key="sk-wrong-key-000000", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as err:
        bad.videos.list()
    assert (err.value.code, err.value.type) == ("invalid_api_key", "authentication_error")

    limited = openai.OpenAI(base_url=serve.base_url, api_key=serve.new_key("--models", "vidgate-tiny"), max_retries=0)
    with pytest.raises(openai.PermissionDeniedError) as err:
        limited.videos.create(prompt="x", model="sora-2")
    assert (err.value.code, err.value.type, err.value.param) == ("insufficient_permissions", "permission_error", "model")

    with pytest.raises(openai.NotFoundError) as err:
        client.videos.retrieve("video_" + "0" * 48)
    assert err.value.code == "not_found"

    with pytest.raises(openai.APIStatusError) as err:  # the e2e server caps uploads at 2 MiB
        client.videos.create(prompt="x", input_reference=("big.png", b"\0" * (3 * 1024 * 1024), "image/png"))
    assert err.value.status_code == 413 and err.value.code == "payload_too_large"


def test_rate_limit_on_too_many_videos_in_flight(serve: ServeProcess):
    with openai.OpenAI(base_url=serve.base_url, api_key=serve.new_key(), max_retries=0) as busy:
        ids = [busy.videos.create(prompt=f"slow {i}", seconds="12").id for i in range(6)]
        with pytest.raises(openai.RateLimitError) as err:
            busy.videos.create(prompt="one too many")
        assert (err.value.code, err.value.type) == ("rate_limit_exceeded", "rate_limit_error")
        for video_id in ids:  # deleting cancels the queued and running renders
            busy.videos.delete(video_id)


def test_upstream_down_is_an_openai_shaped_503(tmp_path):
    settings = load_settings(environ={}, flags={"data_dir": tmp_path, "http_port": free_port(), "envoy_admin_port": 0})

    async def scenario():
        envoy = EnvoyProcess(settings, grpc_port=free_port())  # nothing listens there
        await envoy.start()
        try:
            return await asyncio.to_thread(_retrieve_through, f"http://127.0.0.1:{settings.http_port}/v1")
        finally:
            await envoy.stop()

    err = asyncio.run(scenario())
    assert isinstance(err, openai.InternalServerError) and err.status_code == 503
    assert err.type == "server_error" and err.code == "service_unavailable"


def _retrieve_through(base_url: str) -> Exception:
    try:
        openai.OpenAI(base_url=base_url, api_key="sk-x", max_retries=0).videos.retrieve("video_x")
    except openai.APIStatusError as exc:
        return exc
    raise AssertionError("expected an error")


def test_async_client(serve: ServeProcess):
    async def scenario():
        async with openai.AsyncOpenAI(base_url=serve.base_url, api_key=serve.new_key(), max_retries=0) as aclient:
            video = await aclient.videos.create_and_poll(prompt="async", model="vidgate-tiny")
            content = await aclient.videos.download_content(video.id, variant="thumbnail")
            return video, content.content

    video, thumbnail = asyncio.run(scenario())
    assert video.status == "completed" and image_info(thumbnail)[0] == "WEBP"
