"""Executes an adapter's HttpRequest with the shared aiohttp session; transport failures become UpstreamErrors."""

from __future__ import annotations

import aiohttp

from vidgate.providers.base import HttpRequest, UpstreamError

MAX_API_BODY = 16 * 1024 * 1024


async def send(session: aiohttp.ClientSession, request: HttpRequest, timeout: float) -> tuple[int, bytes]:
    try:
        async with session.request(
            request.method, request.url, headers=request.headers, data=request.body or None,
            timeout=aiohttp.ClientTimeout(total=timeout), allow_redirects=False,
        ) as response:
            body = await response.content.read(MAX_API_BODY + 1)
            if len(body) > MAX_API_BODY:
                raise UpstreamError("upstream_bad_response", "The upstream answer is implausibly large.", retryable=True)
            return response.status, body
    except aiohttp.ClientConnectorError as exc:
        # Nothing reached the upstream: safe to retry or fail over.
        raise UpstreamError("upstream_unreachable", f"Cannot connect to the upstream: {exc.os_error}", retryable=True) from None
    except (TimeoutError, aiohttp.ClientError) as exc:
        # The request may have arrived: a submit must not be blindly repeated.
        raise UpstreamError("upstream_no_answer", f"The upstream did not answer: {type(exc).__name__}",
                            retryable=True, ambiguous=True) from None
