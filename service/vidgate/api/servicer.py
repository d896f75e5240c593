"""VideoService over gRPC: translates protobuf <-> domain calls. No business rules and no status codes here."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from google.api import httpbody_pb2

from vidgate.api.create_body import read_create_request
from vidgate.api.interceptors import current_principal
from vidgate.api.mapping import page_to_proto, video_to_proto
from vidgate.domain.errors import InternalError
from vidgate.domain.service import VideoService
from vidgate.gen.videos.v1 import videos_pb2, videos_pb2_grpc


class VideoServicer(videos_pb2_grpc.VideoServiceServicer):
    def __init__(self, service: VideoService, *, public_url: str | None, default_url: str, poll_after_ms: int, max_upload_bytes: int) -> None:
        self._service = service
        self._public_url = public_url
        self._default_url = default_url
        self._poll_after_ms = poll_after_ms
        self._max_upload = max_upload_bytes

    def _base_url(self, context: grpc.aio.ServicerContext) -> str:
        """Where clients reach /v1: the configured public URL, else the host the request came to via Envoy."""
        if self._public_url:
            return self._public_url
        md = {m.key: m.value for m in context.invocation_metadata() or ()}
        host = md.get("x-forwarded-host")
        if host:
            return f"{md.get('x-forwarded-proto', 'http')}://{host}"
        return self._default_url

    async def CreateVideo(self, request_iterator, context):
        request = await read_create_request(request_iterator, self._max_upload)
        video = await self._service.create(current_principal(), request)
        return video_to_proto(video, base_url=self._base_url(context))

    async def GetVideo(self, request, context):
        video = await self._service.get(current_principal(), request.video_id)
        if not video.status.terminal:
            await context.send_initial_metadata((("openai-poll-after-ms", str(self._poll_after_ms)),))
        return video_to_proto(video, base_url=self._base_url(context))

    async def ListVideos(self, request, context):
        page = await self._service.list(
            current_principal(), after=request.after or None, limit=request.limit, order=request.order or None
        )
        return page_to_proto(page, base_url=self._base_url(context))

    async def DeleteVideo(self, request, context):
        video_id = await self._service.delete(current_principal(), request.video_id)
        return videos_pb2.DeleteVideoResponse(id=video_id, object="video.deleted", deleted=True)

    async def RemixVideo(self, request, context):
        video = await self._service.remix(current_principal(), request.video_id, request.prompt or None)
        return video_to_proto(video, base_url=self._base_url(context))

    async def DownloadVideoContent(self, request, context) -> AsyncIterator[httpbody_pb2.HttpBody]:
        content = await self._service.open_content(current_principal(), request.video_id, request.variant or None)
        chunks = content.stored.chunks
        try:
            # Headers go out with the first chunk; everything that can fail before it already has.
            await context.send_initial_metadata(
                (
                    ("content-disposition", f'attachment; filename="{content.filename}"'),
                    # grpc drops a `content-length` key; Envoy's Lua filter renames this one.
                    ("x-content-length", str(content.stored.size)),
                )
            )
            media_type, sent = content.variant.media_type, 0
            async for chunk in chunks:
                # Envoy takes the response Content-Type from the first message only.
                yield httpbody_pb2.HttpBody(content_type=media_type, data=chunk)
                media_type, sent = "", sent + len(chunk)
            if sent != content.stored.size:
                # The interceptor turns this into a broken download, never a short "complete" one.
                raise InternalError(f"stored file changed while streaming ({sent} of {content.stored.size} bytes)")
        finally:
            await chunks.aclose()

    async def WatchVideo(self, request, context):
        async for video in self._service.watch(current_principal(), request.video_id):
            yield video_to_proto(video, base_url=self._base_url(context))

