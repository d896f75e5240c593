"""The one exception family of vidgate.

Each class knows its gRPC status code, HTTP status and OpenAI error type/code,
so transports translate it by table lookup (see `vidgate.api.status`) and
handlers never choose codes themselves.
"""

from __future__ import annotations

from typing import ClassVar

import grpc


class VidgateError(Exception):
    """Base of every error a client may see."""

    grpc_code: ClassVar[grpc.StatusCode] = grpc.StatusCode.INTERNAL
    http_status: ClassVar[int] = 500
    openai_type: ClassVar[str] = "server_error"
    default_code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code or self.default_code

    def to_openai(self) -> dict[str, dict[str, str | None]]:
        """The body OpenAI clients expect: `{"error": {message, type, param, code}}`."""
        return {"error": {"message": self.message, "type": self.openai_type, "param": self.param, "code": self.code}}


class InvalidRequest(VidgateError):
    grpc_code = grpc.StatusCode.INVALID_ARGUMENT
    http_status = 400
    openai_type = "invalid_request_error"
    default_code = "invalid_parameter"


class NotReady(VidgateError):
    """The request is valid but the video is not in a state that allows it (e.g. content of a queued video)."""

    grpc_code = grpc.StatusCode.FAILED_PRECONDITION
    http_status = 400
    openai_type = "invalid_request_error"
    default_code = "video_not_ready"


class PayloadTooLarge(VidgateError):
    grpc_code = grpc.StatusCode.RESOURCE_EXHAUSTED
    http_status = 413
    openai_type = "invalid_request_error"
    default_code = "payload_too_large"


class Unauthenticated(VidgateError):
    grpc_code = grpc.StatusCode.UNAUTHENTICATED
    http_status = 401
    openai_type = "authentication_error"
    default_code = "invalid_api_key"


class PermissionDenied(VidgateError):
    grpc_code = grpc.StatusCode.PERMISSION_DENIED
    http_status = 403
    openai_type = "permission_error"
    default_code = "insufficient_permissions"


class NotFound(VidgateError):
    grpc_code = grpc.StatusCode.NOT_FOUND
    http_status = 404
    openai_type = "invalid_request_error"
    default_code = "not_found"


class RateLimited(VidgateError):
    grpc_code = grpc.StatusCode.RESOURCE_EXHAUSTED
    http_status = 429
    openai_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"


class InternalError(VidgateError):
    """Something broke on our side; the message must not leak internals."""


class Unavailable(VidgateError):
    grpc_code = grpc.StatusCode.UNAVAILABLE
    http_status = 503
    openai_type = "server_error"
    default_code = "service_unavailable"
