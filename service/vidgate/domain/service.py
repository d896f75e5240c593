"""The video use cases: what each API call means, independent of gRPC or REST."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from vidgate.domain.catalog import Catalog
from vidgate.domain.errors import InvalidRequest, NotFound, NotReady, RateLimited
from vidgate.domain.principal import Principal
from vidgate.domain.requests import CreateVideoInput, VideoSpec, inspect_image, validate_create, validate_prompt
from vidgate.domain.video import Variant, Video, VideoIdFactory, VideoStatus, asset_key, is_video_id
from vidgate.ports import ChangeFeed, ContentStore, GenerationQueue, Page, StoredObject, VideoStore

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# WatchVideo re-reads the store at least this often, in case a change was made by another process.
WATCH_REFRESH_SECONDS = 2.0


@dataclass(frozen=True)
class Limits:
    max_inflight_per_key: int = 32
    content_chunk_bytes: int = 1024 * 1024


@dataclass(frozen=True)
class Content:
    video: Video
    variant: Variant
    stored: StoredObject

    @property
    def filename(self) -> str:
        suffix = "" if self.variant is Variant.VIDEO else f"_{self.variant.value}"
        return f"{self.video.id}{suffix}.{self.variant.extension}"


class VideoService:
    def __init__(
        self,
        *,
        store: VideoStore,
        content: ContentStore,
        catalog: Catalog,
        dispatcher: GenerationQueue,
        events: ChangeFeed,
        limits: Limits,
        ids: VideoIdFactory | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store, self._content, self._catalog = store, content, catalog
        self._dispatcher, self._events, self._limits = dispatcher, events, limits
        self._ids = ids or VideoIdFactory()
        self._clock = clock

    async def create(self, principal: Principal, request: CreateVideoInput) -> Video:
        # Header-only image inspection is cheap, but a 20 MiB upload still costs: keep it off the loop.
        spec = await asyncio.to_thread(validate_create, request, self._catalog)
        return await self._start(principal, spec, remixed_from=None)

    async def remix(self, principal: Principal, video_id: str, prompt: str | None) -> Video:
        prompt = validate_prompt(prompt)
        source = await self.get(principal, video_id)
        if source.status is not VideoStatus.COMPLETED:
            raise NotReady(
                f"Video {video_id!r} is {source.status.value}; only completed videos can be remixed.", param="video_id"
            )
        model = self._catalog.get(source.model)
        image = None
        if source.input_reference_key:
            image_bytes = await self._content.get_bytes(source.input_reference_key)
            if image_bytes is not None:
                image = await asyncio.to_thread(inspect_image, image_bytes, source.size)
        spec = VideoSpec(model=model, prompt=prompt, size=source.size, seconds=source.seconds, image=image,
                         metadata=source.metadata)
        return await self._start(principal, spec, remixed_from=source.id)

    async def _start(self, principal: Principal, spec: VideoSpec, remixed_from: str | None) -> Video:
        principal.require_model(spec.model.name)
        self._dispatcher.provider_for(spec.model.name)
        self._dispatcher.check(spec)
        if await self._store.count_active(principal.owner) >= self._limits.max_inflight_per_key:
            raise RateLimited(
                f"This API key already has {self._limits.max_inflight_per_key} videos queued or in progress; "
                "wait for some to finish."
            )
        video_id = self._ids.new()
        image_key = None
        if spec.image is not None:
            image_key = f"{video_id}/input_reference"
            await self._content.put_bytes(image_key, spec.image.data)
        video = Video(
            id=video_id,
            owner=principal.owner,
            model=spec.model.name,
            prompt=spec.prompt,
            size=spec.size,
            seconds=spec.seconds,
            quality=spec.model.quality,
            created_at=int(self._clock()),
            remixed_from_video_id=remixed_from,
            input_reference_key=image_key,
            metadata=spec.metadata,
        )
        await self._store.insert(video)
        self._dispatcher.submit(video)
        return video

    async def get(self, principal: Principal, video_id: str) -> Video:
        video = await self._store.get(video_id) if video_id else None
        # Someone else's video is reported exactly like a missing one: no existence leak.
        if video is None or video.owner != principal.owner:
            raise NotFound(f"No video found with id {video_id!r}.", param="video_id")
        return video

    async def list(self, principal: Principal, *, after: str | None, limit: int | None, order: str | None) -> Page:
        if limit is None or limit == 0:
            limit = DEFAULT_PAGE_SIZE
        if limit < 0:
            raise InvalidRequest(f"'limit' must be between 1 and {MAX_PAGE_SIZE}, got {limit}.", param="limit")
        order = order or "desc"
        if order not in ("asc", "desc"):
            raise InvalidRequest(f"'order' must be 'asc' or 'desc', got {order!r}.", param="order")
        if after and not is_video_id(after):
            raise InvalidRequest(f"'after' must be a video id from a previous page, got {after!r}.", param="after")
        return await self._store.list_page(
            principal.owner, after=after or None, limit=min(limit, MAX_PAGE_SIZE), descending=order == "desc"
        )

    async def delete(self, principal: Principal, video_id: str) -> str:
        video = await self.get(principal, video_id)
        await self._dispatcher.cancel(video.id)
        await self._store.delete(video.id)
        await self._content.delete_prefix(video.id)
        self._events.publish(video.id)
        return video.id

    async def open_content(self, principal: Principal, video_id: str, variant: str | None) -> Content:
        try:
            chosen = Variant(variant or Variant.VIDEO.value)
        except ValueError:
            raise InvalidRequest(
                f"Invalid variant {variant!r}. Allowed values: {', '.join(v.value for v in Variant)}.", param="variant"
            ) from None
        video = await self.get(principal, video_id)
        if video.status is not VideoStatus.COMPLETED:
            raise NotReady(
                f"Video {video_id!r} is {video.status.value}; content is available once it is completed.",
                param="video_id",
            )
        if video.assets_purged:
            raise NotFound(f"The content of video {video_id!r} has expired and was deleted.", code="video_expired")
        stored = await self._content.open(asset_key(video.id, chosen), self._limits.content_chunk_bytes)
        if stored is None:
            raise NotFound(f"The {chosen.value} of video {video_id!r} is no longer stored.", code="content_missing")
        return Content(video=video, variant=chosen, stored=stored)

    async def watch(self, principal: Principal, video_id: str) -> AsyncIterator[Video]:
        last: Video | None = await self.get(principal, video_id)
        with self._events.listen(video_id) as changed:
            assert last is not None
            yield last
            while not last.status.terminal:
                try:
                    await asyncio.wait_for(changed.wait(), WATCH_REFRESH_SECONDS)
                except TimeoutError:
                    pass
                changed.clear()
                current = await self.get(principal, video_id)
                if (current.status, current.progress) != (last.status, last.progress):
                    yield current
                last = current

