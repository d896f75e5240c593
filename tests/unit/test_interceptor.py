"""The interceptor's stream wrapper: errors before the first message abort with a status; after it,
under Envoy, a poison frame makes the HTTP download visibly fail instead of ending short."""

from types import SimpleNamespace

import grpc
import pytest

from vidgate.api.interceptors import POISON_FRAME, AuthInterceptor
from vidgate.domain.errors import NotFound
from vidgate.domain.principal import Principal


class FakeContext:
    def __init__(self, envoy: bool):
        md = [SimpleNamespace(key="authorization", value="Bearer k")]
        if envoy:
            md.append(SimpleNamespace(key="x-envoy-original-path", value="/v1/videos/x/content"))
        self._md = md
        self.aborted = None

    def invocation_metadata(self):
        return self._md

    async def abort(self, code, message, trailing_metadata=()):
        self.aborted = (code, message, dict(trailing_metadata))
        raise grpc.aio.AbortError()


async def authenticate(header):
    return Principal(key_id="k")


def wrapped(fail_after: int):
    async def behavior(request, context):
        for i in range(fail_after):
            yield f"chunk{i}"
        raise OSError("disk vanished")

    return AuthInterceptor(authenticate, "/svc/")._wrap_stream(behavior, "/svc/Download")


async def collect(gen):
    out = []
    async for item in gen:
        out.append(item)
    return out


async def test_mid_stream_failure_under_envoy_sends_poison():
    assert await collect(wrapped(2)(None, FakeContext(envoy=True))) == ["chunk0", "chunk1", POISON_FRAME]


async def test_mid_stream_failure_for_grpc_clients_aborts():
    context = FakeContext(envoy=False)
    with pytest.raises(grpc.aio.AbortError):
        await collect(wrapped(1)(None, context))
    assert context.aborted[0] == grpc.StatusCode.INTERNAL
    assert "disk vanished" not in context.aborted[1]  # internals are logged, not leaked


async def test_failure_before_first_chunk_aborts_even_under_envoy():
    async def behavior(request, context):
        raise NotFound("nope")
        yield  # pragma: no cover

    context = FakeContext(envoy=True)
    gen = AuthInterceptor(authenticate, "/svc/")._wrap_stream(behavior, "/svc/Download")(None, context)
    with pytest.raises(grpc.aio.AbortError):
        await collect(gen)
    assert context.aborted[0] == grpc.StatusCode.NOT_FOUND
    assert context.aborted[2]["x-http-status"] == "404"
