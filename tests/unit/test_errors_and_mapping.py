import json

import grpc
import pytest
from google.protobuf import json_format
from google.rpc import error_details_pb2, status_pb2

from vidgate.api import status
from vidgate.api.mapping import page_to_proto, video_to_proto
from vidgate.domain import errors
from vidgate.domain.video import Video, VideoStatus
from vidgate.gen.videos.v1 import videos_pb2
from vidgate.ports import Page

TABLE = [
    (errors.InvalidRequest, grpc.StatusCode.INVALID_ARGUMENT, 400, "invalid_request_error", "invalid_parameter"),
    (errors.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED, 401, "authentication_error", "invalid_api_key"),
    (errors.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED, 403, "permission_error", "insufficient_permissions"),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND, 404, "invalid_request_error", "not_found"),
    (errors.PayloadTooLarge, grpc.StatusCode.RESOURCE_EXHAUSTED, 413, "invalid_request_error", "payload_too_large"),
    (errors.RateLimited, grpc.StatusCode.RESOURCE_EXHAUSTED, 429, "rate_limit_error", "rate_limit_exceeded"),
    (errors.InternalError, grpc.StatusCode.INTERNAL, 500, "server_error", "internal_error"),
]


@pytest.mark.parametrize("cls, grpc_code, http, openai_type, code", TABLE)
def test_error_table(cls, grpc_code, http, openai_type, code):
    err = cls("msg \u00e9 \"quoted\"\n", param="size")
    md = dict(status.trailing_metadata(err))
    assert err.grpc_code == grpc_code
    assert md["x-http-status"] == str(http)
    body = md["x-openai-error"]
    assert body.isascii()  # metadata values must be ASCII
    assert json.loads(body) == {"error": {"message": "msg \u00e9 \"quoted\"\n", "type": openai_type, "param": "size", "code": code}}
    rich = status_pb2.Status.FromString(md["grpc-status-details-bin"])
    assert rich.code == grpc_code.value[0]
    detail, info = videos_pb2.ErrorDetail(), error_details_pb2.ErrorInfo()
    assert rich.details[0].Unpack(detail) and rich.details[1].Unpack(info)
    assert (detail.type, detail.code, detail.param) == (openai_type, code, "size")
    assert (info.reason, info.domain) == (code.upper(), "vidgate")


def envoy_json(message) -> dict:
    """What Envoy prints with preserve_proto_field_names + always_print_primitive_fields."""
    return json_format.MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)


VIDEO = Video(id="video_" + "0" * 48, owner="k", model="sora-2", prompt="p", size="720x1280", seconds="4",
              quality="standard", created_at=1_795_000_000)


def test_queued_video_json_golden():
    assert envoy_json(video_to_proto(VIDEO, base_url="http://h")) == {
        "id": VIDEO.id, "object": "video", "model": "sora-2", "status": "queued", "progress": 0,
        "created_at": 1_795_000_000, "prompt": "p", "size": "720x1280", "seconds": "4", "quality": "standard",
    }


def test_completed_and_failed_video_json_golden():
    done = VIDEO.completed(1_795_000_100, 3600)
    assert envoy_json(video_to_proto(done, base_url="http://h:1")) | {} == {
        "id": VIDEO.id, "object": "video", "model": "sora-2", "status": "completed", "progress": 100,
        "created_at": 1_795_000_000, "completed_at": 1_795_000_100, "expires_at": 1_795_003_700, "prompt": "p",
        "size": "720x1280", "seconds": "4", "quality": "standard", "url": f"http://h:1/v1/videos/{VIDEO.id}/content",
    }
    failed = envoy_json(video_to_proto(VIDEO.failed(1_795_000_100, "render_failed", "boom"), base_url="http://h"))
    assert failed["status"] == "failed" and failed["error"] == {"code": "render_failed", "message": "boom"}
    assert "url" not in failed and isinstance(failed["created_at"], int)


def test_list_json_golden():
    assert envoy_json(page_to_proto(Page(videos=[], has_more=False), base_url="http://h")) == {
        "object": "list", "data": [], "has_more": False,
    }
    page = envoy_json(page_to_proto(Page(videos=[VIDEO, VIDEO], has_more=True), base_url="http://h"))
    assert (page["first_id"], page["last_id"], page["has_more"], len(page["data"])) == (VIDEO.id, VIDEO.id, True, 2)


def test_progress_reaches_100_only_on_completion():
    assert VIDEO.with_progress(150).progress == 99
    assert VIDEO.completed(1, 1).progress == 100


def test_compare_and_set_sources_follow_the_state_machine():
    from vidgate.domain.video import sources_of

    assert set(sources_of(VideoStatus.COMPLETED)) == {VideoStatus.IN_PROGRESS}
    assert set(sources_of(VideoStatus.FAILED)) == {VideoStatus.QUEUED, VideoStatus.IN_PROGRESS}
    assert set(sources_of(VideoStatus.QUEUED)) == set()  # nothing ever returns to queued
    assert set(sources_of(VideoStatus.IN_PROGRESS)) == {VideoStatus.QUEUED, VideoStatus.IN_PROGRESS}
