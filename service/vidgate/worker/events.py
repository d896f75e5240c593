"""In-process change notifications, so WatchVideo wakes as soon as a video changes.

Watchers also re-read the store on a timeout, so a missed or foreign (other-process) change
still arrives, just later.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager


class VideoEvents:
    def __init__(self) -> None:
        self._listeners: defaultdict[str, set[asyncio.Event]] = defaultdict(set)

    def publish(self, video_id: str) -> None:
        for event in self._listeners.get(video_id, ()):
            event.set()

    @contextmanager
    def listen(self, video_id: str) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self._listeners[video_id].add(event)
        try:
            yield event
        finally:
            listeners = self._listeners[video_id]
            listeners.discard(event)
            if not listeners:
                del self._listeners[video_id]
