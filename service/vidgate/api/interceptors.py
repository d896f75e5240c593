"""The one interceptor every VideoService RPC goes through: authentication and error mapping.

It wraps each handler's behaviour (the grpc "latency interceptor" pattern) so that the API key is
checked before the handler runs, the resulting Principal is available via `current_principal()`,
and every exception leaves as a proper status (`vidgate.api.status`).
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from vidgate.api import status
from vidgate.domain.errors import InternalError, VidgateError
from vidgate.domain.principal import Principal

log = logging.getLogger(__name__)

_principal: contextvars.ContextVar[Principal] = contextvars.ContextVar("vidgate_principal")
# A frame Envoy's transcoder cannot parse: it resets the stream, so an HTTP client sees a broken
# download instead of a silently truncated "complete" one. Only sent to Envoy (see `_from_envoy`).
POISON_FRAME = b"\xff\xff\xff\xff"


def current_principal() -> Principal:
    return _principal.get()


def _metadata_value(context: grpc.aio.ServicerContext, key: str) -> str | None:
    for item in context.invocation_metadata() or ():
        if item.key == key:
            return item.value if isinstance(item.value, str) else item.value.decode()
    return None


def _from_envoy(context: grpc.aio.ServicerContext) -> bool:
    return _metadata_value(context, "x-envoy-original-path") is not None


def _as_vidgate_error(exc: Exception, method: str) -> VidgateError:
    if isinstance(exc, VidgateError):
        return exc
    log.exception("unhandled error in %s", method, exc_info=exc)
    return InternalError("The server had an error while processing your request.")


class AuthInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, authenticate: Callable[[str | None], Awaitable[Principal]], service_prefix: str) -> None:
        self._authenticate = authenticate
        self._prefix = service_prefix

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not method.startswith(self._prefix):
            return handler  # health and reflection stay open, like any gRPC infrastructure service
        if handler.request_streaming and handler.response_streaming:
            raise NotImplementedError(f"{method}: bidirectional streaming is not wrapped")
        if handler.response_streaming:
            return handler._replace(
                unary_stream=self._wrap_stream(handler.unary_stream, method),
                response_serializer=_passing_bytes(handler.response_serializer),
            )
        if handler.request_streaming:
            return handler._replace(stream_unary=self._wrap_unary(handler.stream_unary, method))
        return handler._replace(unary_unary=self._wrap_unary(handler.unary_unary, method))

    async def _enter(self, context: grpc.aio.ServicerContext) -> None:
        _principal.set(await self._authenticate(_metadata_value(context, "authorization")))

    def _wrap_unary(self, behavior: Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]], method: str):
        async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                await self._enter(context)
                return await behavior(request, context)
            except Exception as exc:
                if isinstance(exc, grpc.aio.AbortError):
                    raise
                await status.abort(context, _as_vidgate_error(exc, method))

        return wrapped

    def _wrap_stream(self, behavior: Callable[[Any, grpc.aio.ServicerContext], AsyncIterator[Any]], method: str):
        async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            sent = False
            try:
                await self._enter(context)
                async for message in behavior(request, context):
                    yield message
                    sent = True
            except Exception as exc:
                if isinstance(exc, grpc.aio.AbortError):
                    raise
                error = _as_vidgate_error(exc, method)
                if sent and _from_envoy(context):
                    log.warning("%s failed mid-stream (%s); resetting the HTTP response", method, error.message)
                    yield POISON_FRAME
                    return
                await status.abort(context, error)

        return wrapped


def _passing_bytes(serializer: Callable[[Any], bytes] | None) -> Callable[[Any], bytes]:
    def serialize(message: Any) -> bytes:
        if isinstance(message, bytes):
            return message
        return serializer(message) if serializer else message.SerializeToString()

    return serialize
