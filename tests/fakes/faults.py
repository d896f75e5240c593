"""Failure injection shared by the fake vendors: each fake says how its own errors look."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

# status, kind ("rate" | "internal") -> that vendor's error response
ErrorBuilder = Callable[[int, str], web.Response]


@dataclass
class Faults:
    # Consumed one per API call: "429", "500", "hang" (no answer in time), "garbage" (not JSON),
    # "lost" (the call succeeds but its answer is late; handled by the fake itself).
    inject: list[str] = field(default_factory=list)
    # The finished file's URL has expired.
    file_gone: bool = False

    async def next_fault(self, error: ErrorBuilder) -> web.Response | None:
        if not self.inject or self.inject[0] == "lost":
            return None
        what = self.inject.pop(0)
        if what == "429":
            return error(429, "rate")
        if what == "500":
            return error(500, "internal")
        if what == "hang":
            await asyncio.sleep(2)  # longer than the client timeout the tests configure
        return web.Response(text="<html>bad gateway</html>", status=200, content_type="text/html")

    def take_lost(self) -> bool:
        if self.inject and self.inject[0] == "lost":
            self.inject.pop(0)
            return True
        return False

    def file_response(self, video: bytes) -> web.Response:
        if self.file_gone:
            return web.Response(status=403, text="AccessDenied: Request has expired")
        return web.Response(body=video, content_type="video/mp4")
