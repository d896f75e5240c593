"""The seams between the domain and the outside world. Adapters implement these Protocols;
`vidgate.app` picks which ones and wires them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from vidgate.domain.video import Video, VideoStatus

if TYPE_CHECKING:
    from vidgate.domain.requests import VideoSpec


@dataclass(frozen=True)
class ApiKeyRecord:
    id: str
    name: str
    hint: str
    allowed_models: frozenset[str] | None
    created_at: int
    revoked_at: int | None = None


@dataclass(frozen=True)
class Page:
    videos: Sequence[Video]
    has_more: bool


class VideoStore(Protocol):
    """Durable video records. Status changes are compare-and-set so nothing moves backwards."""

    async def insert(self, video: Video) -> None: ...

    async def get(self, video_id: str) -> Video | None: ...

    async def list_page(self, owner: str, *, after: str | None, limit: int, descending: bool) -> Page: ...

    async def count_active(self, owner: str) -> int: ...

    async def list_active(self) -> Sequence[Video]:
        """Queued and in-progress videos of every owner, oldest first (what a restart must resume)."""
        ...

    async def update(self, video: Video, *, expected: Sequence[VideoStatus]) -> bool:
        """Writes `video` only if the stored status is one of `expected`; False otherwise."""
        ...

    async def delete(self, video_id: str) -> bool: ...

    async def list_expired(self, now: int, limit: int) -> Sequence[Video]: ...


class KeyStore(Protocol):
    async def add_key(self, record: ApiKeyRecord, key_hash: str) -> None: ...

    async def find_key(self, key_hash: str) -> ApiKeyRecord | None: ...

    async def list_keys(self) -> Sequence[ApiKeyRecord]: ...

    async def revoke_key(self, key_id: str, now: int) -> bool: ...

    async def count_keys(self) -> int: ...


@dataclass(frozen=True)
class StoredObject:
    size: int
    chunks: AsyncIterator[bytes]


class ContentStore(Protocol):
    """Files of videos, addressed by keys like `video_x/video.mp4`."""

    async def put_file(self, key: str, source: Path) -> None:
        """Takes ownership of `source` (it may be moved)."""
        ...

    async def put_bytes(self, key: str, data: bytes) -> None: ...

    async def get_bytes(self, key: str) -> bytes | None: ...

    async def open(self, key: str, chunk_size: int) -> StoredObject | None: ...

    async def delete_prefix(self, prefix: str) -> None: ...


@dataclass(frozen=True)
class RenderJob:
    video_id: str
    model: str
    prompt: str
    width: int
    height: int
    seconds: int
    # Raw bytes of the guiding image, if any.
    image: bytes | None


@dataclass(frozen=True)
class RenderedAssets:
    """Files a provider produced in its work directory; the caller moves them into the ContentStore."""

    video: Path
    thumbnail: Path
    spritesheet: Path


ProgressCallback = Callable[[int], Awaitable[None]]


class ProviderError(Exception):
    """A generation failed for a reason the client should see as the video's `error`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ChangeFeed(Protocol):
    """Wakes watchers of a video when it changes (best effort: watchers also re-read on a timer)."""

    def publish(self, video_id: str) -> None: ...

    def listen(self, video_id: str) -> AbstractContextManager[asyncio.Event]: ...


class GenerationQueue(Protocol):
    """Where accepted videos go to be generated (the worker's dispatcher)."""

    def provider_for(self, model: str) -> str:
        """The provider that renders `model`; InvalidRequest if none is configured."""
        ...

    def check(self, spec: "VideoSpec") -> None:
        """InvalidRequest if the serving route cannot honour `spec` exactly (size, seconds, metadata...)."""
        ...

    def submit(self, video: Video) -> None: ...

    async def cancel(self, video_id: str) -> None: ...


class VideoProvider(Protocol):
    """Turns a RenderJob into files. Cancelling the awaiting task must stop the work."""

    name: str

    async def generate(self, job: RenderJob, workdir: Path, on_progress: ProgressCallback) -> RenderedAssets: ...

    async def close(self) -> None: ...
