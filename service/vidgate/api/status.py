"""The one place a VidgateError becomes a gRPC status.

The status carries three things: the gRPC code and message (for every gRPC client), a
`google.rpc.Status` with an `ErrorDetail` and an `ErrorInfo` (rich details for gRPC clients), and two
private trailers for Envoy's Lua filter: `x-openai-error` (the exact OpenAI JSON body, ASCII-escaped
because metadata values must be ASCII) and `x-http-status` (the HTTP status to answer with).
"""

from __future__ import annotations

import json
from typing import NoReturn

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from vidgate.domain.errors import VidgateError
from vidgate.gen.videos.v1 import videos_pb2

ERROR_DOMAIN = "vidgate"
OPENAI_ERROR_KEY = "x-openai-error"
HTTP_STATUS_KEY = "x-http-status"


def _packed(message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def trailing_metadata(error: VidgateError) -> tuple[tuple[str, str | bytes], ...]:
    detail = videos_pb2.ErrorDetail(message=error.message, type=error.openai_type, code=error.code)
    if error.param is not None:
        detail.param = error.param
    info = error_details_pb2.ErrorInfo(
        reason=error.code.upper(), domain=ERROR_DOMAIN, metadata={"param": error.param} if error.param else {}
    )
    status = status_pb2.Status(
        code=error.grpc_code.value[0], message=error.message, details=[_packed(detail), _packed(info)]
    )
    return (
        ("grpc-status-details-bin", status.SerializeToString()),
        (OPENAI_ERROR_KEY, json.dumps(error.to_openai(), ensure_ascii=True, separators=(",", ":"))),
        (HTTP_STATUS_KEY, str(error.http_status)),
    )


async def abort(context: grpc.aio.ServicerContext, error: VidgateError) -> NoReturn:
    await context.abort(error.grpc_code, error.message, trailing_metadata=trailing_metadata(error))
    raise AssertionError("unreachable: context.abort raises")
