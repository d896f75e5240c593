"""Domain objects -> protobuf messages (the wire shape Envoy prints as OpenAI JSON)."""

from __future__ import annotations

from vidgate.domain.video import Video, VideoStatus
from vidgate.gen.videos.v1 import videos_pb2
from vidgate.ports import Page


def video_to_proto(video: Video, *, base_url: str) -> videos_pb2.Video:
    message = videos_pb2.Video(
        id=video.id,
        object="video",
        model=video.model,
        status=video.status.value,
        progress=video.progress,
        created_at=video.created_at,
        prompt=video.prompt,
        size=video.size,
        seconds=video.seconds,
        quality=video.quality,
    )
    if video.completed_at is not None:
        message.completed_at = video.completed_at
    if video.expires_at is not None:
        message.expires_at = video.expires_at
    if video.remixed_from_video_id:
        message.remixed_from_video_id = video.remixed_from_video_id
    if video.error is not None:
        message.error.code = video.error.code
        message.error.message = video.error.message
    if video.status is VideoStatus.COMPLETED and not video.assets_purged:
        message.url = f"{base_url}/v1/videos/{video.id}/content"
    return message


def page_to_proto(page: Page, *, base_url: str) -> videos_pb2.ListVideosResponse:
    response = videos_pb2.ListVideosResponse(
        object="list", data=[video_to_proto(v, base_url=base_url) for v in page.videos], has_more=page.has_more
    )
    if page.videos:
        response.first_id = page.videos[0].id
        response.last_id = page.videos[-1].id
    return response
