"""The Video entity and its state machine."""

from __future__ import annotations

import enum
import os
import re
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any


class VideoStatus(enum.StrEnum):
    """OpenAI's lifecycle strings. `in_progress` (not `processing`): the SDK's poll loop stops on anything else."""

    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in (VideoStatus.COMPLETED, VideoStatus.FAILED)


# Forward moves only: nothing returns to `queued`, and a terminal video never changes again.
_ALLOWED: dict[VideoStatus, frozenset[VideoStatus]] = {
    VideoStatus.QUEUED: frozenset({VideoStatus.IN_PROGRESS, VideoStatus.FAILED}),
    VideoStatus.IN_PROGRESS: frozenset({VideoStatus.IN_PROGRESS, VideoStatus.COMPLETED, VideoStatus.FAILED}),
    VideoStatus.COMPLETED: frozenset(),
    VideoStatus.FAILED: frozenset(),
}


def sources_of(new: VideoStatus) -> tuple[VideoStatus, ...]:
    """The stored statuses a write of `new` may replace: the compare part of compare-and-set."""
    return tuple(s for s, targets in _ALLOWED.items() if new in targets)


class Variant(enum.StrEnum):
    """The downloadable files of a completed video."""

    VIDEO = "video"
    THUMBNAIL = "thumbnail"
    SPRITESHEET = "spritesheet"

    @property
    def media_type(self) -> str:
        return _VARIANT_MEDIA[self][0]

    @property
    def extension(self) -> str:
        return _VARIANT_MEDIA[self][1]


_VARIANT_MEDIA = {
    Variant.VIDEO: ("video/mp4", "mp4"),
    Variant.THUMBNAIL: ("image/webp", "webp"),
    Variant.SPRITESHEET: ("image/jpeg", "jpg"),
}


def asset_key(video_id: str, variant: Variant) -> str:
    """Where a variant of a video lives in the ContentStore."""
    return f"{video_id}/{variant.value}.{variant.extension}"


@dataclass(frozen=True)
class VideoFailure:
    code: str
    message: str


@dataclass(frozen=True)
class Video:
    id: str
    owner: str
    model: str
    prompt: str
    size: str
    seconds: str
    quality: str
    created_at: int
    status: VideoStatus = VideoStatus.QUEUED
    progress: int = 0
    completed_at: int | None = None
    expires_at: int | None = None
    remixed_from_video_id: str | None = None
    error: VideoFailure | None = None
    # Content-store key of the guiding image, when one was given.
    input_reference_key: str | None = None
    assets_purged: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    # Remote providers only. The upstream id and state never leave vidgate.
    provider: str | None = None
    upstream_task_id: str | None = None
    upstream_state: dict[str, str] = field(default_factory=dict)
    # none -> submitting (persisted before the call) -> submitted: a restart finding `submitting`
    # knows the upstream may have the task, and must not send it again.
    submit_state: str = "none"

    @property
    def width(self) -> int:
        return int(self.size.split("x")[0])

    @property
    def height(self) -> int:
        return int(self.size.split("x")[1])

    def with_progress(self, progress: int) -> Video:
        return replace(self, status=VideoStatus.IN_PROGRESS, progress=max(0, min(99, progress)))

    def completed(self, now: int, retention_seconds: int) -> Video:
        return replace(self, status=VideoStatus.COMPLETED, progress=100, completed_at=now, expires_at=now + retention_seconds)

    def failed(self, now: int, code: str, message: str) -> Video:
        return replace(self, status=VideoStatus.FAILED, completed_at=now, error=VideoFailure(code, message))


VIDEO_ID_RE = re.compile(r"^video_[0-9a-f]{48}$")


class VideoIdFactory:
    """Ids `video_<12 hex ms time><36 hex>`: sortable by creation, so a list cursor stays valid
    even after the video it names is deleted. Monotonic within a process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0

    def new(self) -> str:
        with self._lock:
            ms = max(int(time.time() * 1000), self._last_ms + 1)
            self._last_ms = ms
        return f"video_{ms:012x}{os.urandom(18).hex()}"


def is_video_id(value: str) -> bool:
    return bool(VIDEO_ID_RE.match(value))
