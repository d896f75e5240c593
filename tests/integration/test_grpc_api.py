import asyncio

import grpc
import pytest
from google.rpc import status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.helpers import image_bytes, image_info, inspect_mp4
from tests.integration.conftest import AUTH
from vidgate.gen.videos.v1 import videos_pb2

TINY = dict(model="vidgate-tiny", size="160x96", seconds="1")


async def create(server, auth=AUTH, **fields):
    async def one():
        yield videos_pb2.CreateVideoRequest(**fields)

    return await server.stub.CreateVideo(one(), metadata=auth)


async def wait_terminal(server, video_id, auth=AUTH):
    last = None
    async for video in server.stub.WatchVideo(videos_pb2.WatchVideoRequest(video_id=video_id), metadata=auth):
        last = video
    return last


async def download(server, video_id, variant="", auth=AUTH):
    call = server.stub.DownloadVideoContent(
        videos_pb2.DownloadVideoContentRequest(video_id=video_id, variant=variant), metadata=auth
    )
    chunks = [m async for m in call]
    return chunks, dict(await call.initial_metadata())


def error_detail(err: grpc.aio.AioRpcError) -> videos_pb2.ErrorDetail:
    md = dict(err.trailing_metadata())
    status = status_pb2.Status.FromString(md["grpc-status-details-bin"])
    detail = videos_pb2.ErrorDetail()
    assert status.details[0].Unpack(detail)
    return detail


async def test_create_watch_download(server):
    video = await create(server, prompt="a lighthouse in fog", **TINY)
    assert (video.status, video.progress, video.object) == ("queued", 0, "video")
    seen = []
    async for update in server.stub.WatchVideo(videos_pb2.WatchVideoRequest(video_id=video.id), metadata=AUTH):
        seen.append((update.status, update.progress))
    assert seen[0][0] in ("queued", "in_progress") and seen[-1] == ("completed", 100)
    progresses = [p for _, p in seen]
    assert progresses == sorted(progresses)  # progress never goes backwards
    done = await server.stub.GetVideo(videos_pb2.GetVideoRequest(video_id=video.id), metadata=AUTH)
    assert done.HasField("completed_at") and done.expires_at - done.completed_at == 24 * 3600
    assert done.url.endswith(f"/v1/videos/{video.id}/content")

    chunks, md = await download(server, video.id)
    assert chunks[0].content_type == "video/mp4"
    data = b"".join(c.data for c in chunks)
    assert md["x-content-length"] == str(len(data))
    assert md["content-disposition"] == f'attachment; filename="{video.id}.mp4"'
    info = inspect_mp4(data)
    assert (info.width, info.height, info.frames) == (160, 96, 24)
    for variant, fmt in (("thumbnail", "WEBP"), ("spritesheet", "JPEG")):
        chunks, _ = await download(server, video.id, variant)
        assert image_info(b"".join(c.data for c in chunks))[0] == fmt


async def test_image_reference_and_remix(server):
    video = await create(server, prompt="from an image", input_reference=videos_pb2.InputReference(
        image_data=image_bytes(160, 96)), **TINY)
    assert (await wait_terminal(server, video.id)).status == "completed"
    remix = await server.stub.RemixVideo(videos_pb2.RemixVideoRequest(video_id=video.id, prompt="now at night"), metadata=AUTH)
    assert remix.remixed_from_video_id == video.id and remix.id != video.id
    assert (remix.model, remix.size, remix.seconds, remix.prompt) == ("vidgate-tiny", "160x96", "1", "now at night")
    assert (await wait_terminal(server, remix.id)).status == "completed"


async def test_remix_of_unfinished_video_is_failed_precondition(server):
    video = await create(server, prompt="slow", model="vidgate-tiny", seconds="2")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await server.stub.RemixVideo(videos_pb2.RemixVideoRequest(video_id=video.id, prompt="x"), metadata=AUTH)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await download(server, video.id)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_detail(err.value).code == "video_not_ready"


async def test_validation_errors_carry_openai_detail(server):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await create(server, prompt="x", size="999x999")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    detail = error_detail(err.value)
    assert (detail.type, detail.code, detail.param) == ("invalid_request_error", "invalid_parameter", "size")


async def test_auth_missing_wrong_revoked(server):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await server.stub.ListVideos(videos_pb2.ListVideosRequest())
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await server.stub.ListVideos(videos_pb2.ListVideosRequest(), metadata=(("authorization", "Bearer sk-nope-123456789"),))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "sk-nope-123456789" not in err.value.details()  # only a masked hint
    auth = await server.new_key()
    await server.stub.ListVideos(videos_pb2.ListVideosRequest(), metadata=auth)
    key_id = (await server.app.store.list_keys())[-1].id
    assert await server.app.store.revoke_key(key_id, 0)
    await asyncio.sleep(2.1)  # the positive-lookup cache lives 2 s
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await server.stub.ListVideos(videos_pb2.ListVideosRequest(), metadata=auth)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_keys_are_isolated_and_model_limited(server):
    alice, bob = await server.new_key("alice"), await server.new_key("bob", frozenset({"vidgate-tiny"}))
    video = await create(server, auth=alice, prompt="alice's", **TINY)
    for call in (
        server.stub.GetVideo(videos_pb2.GetVideoRequest(video_id=video.id), metadata=bob),
        server.stub.DeleteVideo(videos_pb2.DeleteVideoRequest(video_id=video.id), metadata=bob),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert (await server.stub.ListVideos(videos_pb2.ListVideosRequest(), metadata=bob)).data == []
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await create(server, auth=bob, prompt="x", model="sora-2")
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert (await create(server, auth=bob, prompt="ok", **TINY)).status == "queued"


async def test_pagination_is_stable_while_creating(server):
    auth = await server.new_key("pager")
    ids = [(await create(server, auth=auth, prompt=f"v{i}", **TINY)).id for i in range(7)]
    for order, expected in (("asc", ids), ("desc", ids[::-1])):
        seen, after = [], ""
        while True:
            page = await server.stub.ListVideos(videos_pb2.ListVideosRequest(limit=3, order=order, after=after), metadata=auth)
            seen += [v.id for v in page.data]
            if order == "desc" and after == "":
                await create(server, auth=auth, prompt="created while paging", **TINY)
            if not page.has_more:
                break
            assert page.last_id == page.data[-1].id and page.first_id == page.data[0].id
            after = page.last_id
        assert seen[: len(expected)] == expected and len(seen) == len(set(seen))
    default = await server.stub.ListVideos(videos_pb2.ListVideosRequest(), metadata=auth)
    assert [v.id for v in default.data][1:] == ids[::-1]  # desc by default, newest (created while paging) first
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await server.stub.ListVideos(videos_pb2.ListVideosRequest(order="sideways"), metadata=auth)
    assert error_detail(err.value).param == "order"


async def test_delete_in_flight_cancels_and_removes_files(server):
    video = await create(server, prompt="to be deleted", model="sora-2", seconds="12")
    for _ in range(200):
        current = await server.stub.GetVideo(videos_pb2.GetVideoRequest(video_id=video.id), metadata=AUTH)
        if current.status == "in_progress":
            break
        await asyncio.sleep(0.05)
    deleted = await server.stub.DeleteVideo(videos_pb2.DeleteVideoRequest(video_id=video.id), metadata=AUTH)
    assert (deleted.id, deleted.object, deleted.deleted) == (video.id, "video.deleted", True)
    assert server.app.dispatcher.running == 0
    assert not (server.app.settings.content_dir / video.id).exists()
    assert not (server.app.settings.work_dir / video.id).exists()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await server.stub.GetVideo(videos_pb2.GetVideoRequest(video_id=video.id), metadata=AUTH)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_inflight_limit_is_rate_limited(tmp_path, tiny_config):
    from tests.integration.conftest import make_settings, start, stop

    running = await start(make_settings(tmp_path / "d", tiny_config, max_inflight_per_key=2))
    try:
        for _ in range(2):
            await create(running, prompt="x", model="vidgate-tiny", seconds="2")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await create(running, prompt="x", model="vidgate-tiny", seconds="2")
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert dict(err.value.trailing_metadata())["x-http-status"] == "429"
    finally:
        await stop(running)


async def test_health_and_reflection_need_no_key(server):
    health = health_pb2_grpc.HealthStub(server.channel)
    for service in ("", "vidgate.videos.v1.VideoService"):
        response = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert response.status == health_pb2.HealthCheckResponse.SERVING


async def test_expired_content_is_purged_but_the_record_stays(server):
    from vidgate.worker.reaper import ExpiryReaper

    video = await create(server, prompt="short-lived", **TINY)
    done = await wait_terminal(server, video.id)
    app = server.app
    from vidgate.storage.local import LocalContentStore

    reaper = ExpiryReaper(app.store, LocalContentStore(app.settings.content_dir), clock=lambda: done.expires_at + 1)
    assert await reaper.purge_once() == 1
    assert not (app.settings.content_dir / video.id).exists()
    kept = await server.stub.GetVideo(videos_pb2.GetVideoRequest(video_id=video.id), metadata=AUTH)
    assert kept.status == "completed" and not kept.HasField("url")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await download(server, video.id)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND and error_detail(err.value).code == "video_expired"
    assert await reaper.purge_once() == 0
