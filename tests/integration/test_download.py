"""Fetching vendor files safely: scheme, private addresses, redirects, size caps, expiry."""

import aiohttp
import pytest
from aiohttp import web

from tests.fakes.host import serving
from vidgate.worker.download import DownloadError, download, download_session


def app() -> web.Application:
    application = web.Application()

    async def file(request):
        return web.Response(body=b"x" * 1000)

    async def to_localhost(request):
        raise web.HTTPFound(f"http://localhost:{request.url.port}/file")

    async def to_file(request):
        raise web.HTTPFound("/file")

    async def gone(request):
        return web.Response(status=403, text="Request has expired")

    application.router.add_get("/file", file)
    application.router.add_get("/to-localhost", to_localhost)
    application.router.add_get("/to-file", to_file)
    application.router.add_get("/gone", gone)
    return application


async def fetch(base, path, tmp_path, allowed=("127.0.0.1",), max_bytes=10_000):
    async with download_session(frozenset(allowed)) as session:
        return await download(session, base + path, tmp_path / "out", headers={"Authorization": "Bearer k"},
                              max_bytes=max_bytes, connect_timeout=5, allowed_private=allowed)


async def test_rules(tmp_path):
    async with serving(app()) as base:
        assert await fetch(base, "/file", tmp_path) == 1000
        assert await fetch(base, "/to-file", tmp_path) == 1000  # same-host redirect, re-checked
        for path, allowed, match in (
            ("/file", (), "non-public address"),
            ("/to-localhost", ("127.0.0.1",), "non-public address"),
        ):
            with pytest.raises(DownloadError, match=match):
                await fetch(base, path, tmp_path, allowed=allowed)
        with pytest.raises(DownloadError, match="cap") as err:
            await fetch(base, "/file", tmp_path, max_bytes=999)
        assert err.value.permanent and not err.value.gone
        with pytest.raises(DownloadError) as err:
            await fetch(base, "/gone", tmp_path)
        assert err.value.gone
    with pytest.raises(DownloadError, match="non-http"):
        await fetch("file://", "/etc/passwd", tmp_path)


async def test_the_session_itself_refuses_private_addresses():
    """Even past the pre-check (a DNS answer that changed): the resolver drops private addresses."""
    async with serving(app()) as base, download_session(frozenset()) as session:
        with pytest.raises(aiohttp.ClientConnectorError):
            await session.get(base.replace("127.0.0.1", "localhost") + "/file")
