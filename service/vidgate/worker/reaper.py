"""Deletes the files of videos whose `expires_at` has passed; the record stays, its content is gone."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace

from vidgate.domain.video import VideoStatus
from vidgate.ports import ContentStore, VideoStore

log = logging.getLogger(__name__)


class ExpiryReaper:
    def __init__(self, store: VideoStore, content: ContentStore, clock: Callable[[], float] = time.time) -> None:
        self._store, self._content, self._clock = store, content, clock

    async def purge_once(self, batch: int = 100) -> int:
        purged = 0
        for video in await self._store.list_expired(int(self._clock()), batch):
            await self._content.delete_prefix(video.id)
            if await self._store.update(replace(video, assets_purged=True), expected=[VideoStatus.COMPLETED]):
                purged += 1
        return purged

    async def run(self, interval: float) -> None:
        while True:
            try:
                if await self.purge_once():
                    continue
            except Exception:
                log.exception("purging expired content failed; retrying later")
            await asyncio.sleep(interval)
