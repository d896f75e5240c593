"""Fetches a finished video from a vendor URL into a local file, safely.

Only http(s); redirects are followed by hand (at most 3) so every hop is checked; a host that resolves
to a private, loopback or link-local address is refused unless the provider allows it by name; the
size is capped and the whole transfer is timed out.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

MAX_REDIRECTS = 3
CHUNK = 1024 * 1024


class DownloadError(Exception):
    def __init__(self, message: str, *, gone: bool = False, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        # The vendor says the file no longer exists (its URL expired): retrying cannot help.
        self.gone = gone
        # vidgate refuses this download (scheme, address, size, redirects): retrying cannot help either.
        self.permanent = permanent


class PublicOnlyResolver(AbstractResolver):
    """Resolves for the download session and drops non-public addresses at connection time, so a DNS
    answer that changes after `_check_host` (rebinding) still cannot reach a private address."""

    def __init__(self, allowed_private: frozenset[str]) -> None:
        self._inner = aiohttp.ThreadedResolver()
        self._allowed = allowed_private

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
                      ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if host in self._allowed:
            return results
        public = [r for r in results if ipaddress.ip_address(r["host"]).is_global]
        if not public:
            raise OSError(f"{host} resolves only to non-public addresses")
        return public

    async def close(self) -> None:
        await self._inner.close()


def download_session(allowed_private: frozenset[str]) -> aiohttp.ClientSession:
    """The session vendor files are fetched with (never the one that carries API credentials)."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=PublicOnlyResolver(allowed_private)))


async def _check_host(url: str, allowed_private: tuple[str, ...]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DownloadError(f"refusing to download from a non-http(s) URL ({parts.scheme or 'no scheme'})",
                            permanent=True)
    if parts.hostname in allowed_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise DownloadError(f"cannot resolve {parts.hostname}: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise DownloadError(f"refusing to download from {parts.hostname}: it resolves to a non-public address",
                                permanent=True)


async def download(session: aiohttp.ClientSession, url: str, target: Path, *, headers: dict[str, str],
                   max_bytes: int, connect_timeout: float, allowed_private: tuple[str, ...]) -> int:
    """Large files may take long: only connecting and each read are timed out (a stall fails, progress does not)."""
    for _ in range(MAX_REDIRECTS + 1):
        await _check_host(url, allowed_private)
        try:
            async with session.get(url, headers=headers, allow_redirects=False,
                                   timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout,
                                                                 sock_read=60)) as response:
                if response.status in (301, 302, 303, 307, 308) and "Location" in response.headers:
                    url = urljoin(url, response.headers["Location"])
                    headers = {}  # never carry credentials to another location
                    continue
                if response.status in (403, 404, 410):
                    raise DownloadError(f"the vendor answered HTTP {response.status} for the video file", gone=True)
                if response.status != 200:
                    raise DownloadError(f"the vendor answered HTTP {response.status} for the video file")
                declared = response.content_length
                if declared is not None and declared > max_bytes:
                    raise DownloadError(f"the video file is {declared} bytes, over the {max_bytes}-byte cap",
                                        permanent=True)
                return await _save(response, target, max_bytes)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DownloadError(f"downloading the video file failed: {type(exc).__name__}: {exc}") from None
    raise DownloadError(f"more than {MAX_REDIRECTS} redirects", permanent=True)


async def _save(response: aiohttp.ClientResponse, target: Path, max_bytes: int) -> int:
    total = 0
    handle = await asyncio.to_thread(target.open, "wb")
    try:
        async for chunk in response.content.iter_chunked(CHUNK):
            total += len(chunk)
            if total > max_bytes:
                raise DownloadError(f"the video file is over the {max_bytes}-byte cap", permanent=True)
            await asyncio.to_thread(handle.write, chunk)
    finally:
        await asyncio.to_thread(handle.close)
    return total
