"""Drives a video through a remote provider: submit (with retries and route failover), poll (paced,
rate-limited, concurrent across videos), then archive the result into vidgate's own content store.

Each in-flight video is one coroutine that mostly sleeps, so thousands are cheap. Every status
write is compare-and-set, so nothing moves backwards, and the upstream id is stored before anything
else can happen to it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import aiohttp
from aiolimiter import AsyncLimiter

from vidgate.domain.catalog import Catalog, Route
from vidgate.domain.requests import image_media_type
from vidgate.domain.video import Variant, Video, VideoStatus, asset_key
from vidgate.ports import ChangeFeed, ContentStore, VideoStore
from vidgate.providers.base import RemoteAdapter, Submitted, UpstreamError, UpstreamJob, UpstreamStatus
from vidgate.providers.http import send
from vidgate.providers.local.provider import WorkerFailed, WorkerProcesses
from vidgate.worker.download import DownloadError, download
from vidgate.worker.workdirs import fresh_dir, remove_dir

log = logging.getLogger(__name__)
SUBMIT_ATTEMPTS = 4
# A vendor that keeps failing this long (polls or downloads) ends the video with a reason: never hung.
OUTAGE_SECONDS = 30 * 60
MIN_POLL_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 60.0
TASK_TIMEOUT_SECONDS = 2 * 3600
_RUNNING = (VideoStatus.QUEUED, VideoStatus.IN_PROGRESS)


@dataclass
class PollStats:
    """How late polls run against their schedule (what `make bench` reports as poll lag)."""

    polls: int = 0
    lags: list[float] = field(default_factory=list)

    def record(self, lag: float) -> None:
        self.polls += 1
        if len(self.lags) < 100_000:
            self.lags.append(lag)


class RemoteRunner:
    def __init__(self, *, store: VideoStore, content: ContentStore, catalog: Catalog,
                 adapters: Mapping[str, RemoteAdapter], session: aiohttp.ClientSession,
                 downloads: aiohttp.ClientSession, workers: WorkerProcesses,
                 events: ChangeFeed, workdir: Path, retention_seconds: int,
                 clock: Callable[[], float] = time.time) -> None:
        self._store, self._content, self._catalog = store, content, catalog
        self._adapters, self._session, self._downloads, self._workers = adapters, session, downloads, workers
        self._events, self._workdir, self._retention, self._clock = events, workdir, retention_seconds, clock
        self._limiters = {n: AsyncLimiter(a.config.requests_per_second, 1) for n, a in adapters.items()}
        self._slots = {n: asyncio.Semaphore(a.config.max_concurrent_tasks) for n, a in adapters.items()}
        self.stats = PollStats()
        self._rng = random.Random()

    def adapter(self, provider: str) -> RemoteAdapter | None:
        return self._adapters.get(provider)

    async def _jobs(self, video: Video) -> Callable[[Route], UpstreamJob] | None:
        """Reads the image and the remix source once; returns the job for any route (None: image gone)."""
        image = await self._content.get_bytes(video.input_reference_key) if video.input_reference_key else None
        if video.input_reference_key and image is None:
            return None
        source = await self._store.get(video.remixed_from_video_id) if video.remixed_from_video_id else None
        base = UpstreamJob(video_id=video.id, upstream_model="", prompt=video.prompt, width=video.width,
                           height=video.height, seconds=int(video.seconds), image=image,
                           image_media_type=image_media_type(image) if image else None, metadata=video.metadata)

        def for_route(route: Route) -> UpstreamJob:
            remix_of = source.upstream_task_id if source is not None and source.provider == route.provider else None
            return replace(base, upstream_model=route.model, remix_of=remix_of)

        return for_route

    async def run(self, video: Video) -> None:
        routes = self._catalog.get(video.model).route_order(self._rng)
        if video.submit_state != "none" and video.provider not in self._adapters:
            # Sent (or maybe sent) to a provider that is no longer configured: sending it elsewhere
            # could make it twice, so it ends here with the reason.
            await self._fail(video, "provider_unavailable",
                             f"Provider {video.provider!r}, which has this video, is no longer configured.")
            return
        if video.upstream_task_id:
            submitted = Submitted(video.upstream_task_id, video.upstream_state)
            async with self._slots[video.provider]:
                await self._follow(video, self._adapters[video.provider], submitted)
            return
        jobs = await self._jobs(video)
        if jobs is None:
            await self._fail(video, "input_reference_missing", "The stored input_reference image is gone.")
            return
        if video.submit_state == "submitting":
            # A previous run stopped mid-submit: the provider may have the task. Never send it again.
            route = next((r for r in routes if r.provider == video.provider), routes[0])
            async with self._slots[video.provider]:
                await self._recover(video, self._adapters[video.provider], jobs(route),
                                    "vidgate stopped while submitting this video")
            return
        last_error: UpstreamError | None = None
        for route in routes:
            adapter = self._adapters[route.provider]
            job = jobs(route)
            async with self._slots[route.provider]:  # held from submit until the task ends
                outcome = await self._submit(video, adapter, job)
                if isinstance(outcome, tuple):
                    video, submitted = outcome
                    await self._follow(video, adapter, submitted)
                    return
                if outcome.ambiguous:
                    marked = await self._store.get(video.id)
                    if marked is not None:
                        await self._recover(marked, adapter, job, outcome.message)
                    return
            last_error = outcome
            if outcome.ambiguous or not outcome.retryable:
                break
            log.warning("route %s failed for %s (%s); trying the next route", route.provider, video.id, outcome.code)
        assert last_error is not None
        await self._fail(video, last_error.code, last_error.message)

    async def _submit(self, video: Video, adapter: RemoteAdapter, job: UpstreamJob
                      ) -> tuple[Video, Submitted] | UpstreamError:
        name = adapter.config.name
        marked = replace(video, provider=name, submit_state="submitting")
        if not await self._store.update(marked, expected=_RUNNING):
            return UpstreamError("deleted", "The video was deleted.", retryable=False)
        delay = adapter.config.retry_backoff_seconds
        for attempt in range(1, SUBMIT_ATTEMPTS + 1):
            try:
                async with self._limiters[name]:
                    status, body = await send(self._session, adapter.submit_request(job, self._clock()),
                                              adapter.config.timeout_seconds)
                submitted = adapter.parse_submit(job, status, body)
            except UpstreamError as exc:
                if exc.ambiguous or not exc.retryable or attempt == SUBMIT_ATTEMPTS:
                    if not exc.ambiguous:  # the upstream certainly has nothing: another route may try
                        await self._store.update(replace(marked, submit_state="none", provider=None), expected=_RUNNING)
                    return exc
                await asyncio.sleep(_jitter(exc.retry_after or delay))
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)
                continue
            done = replace(marked, submit_state="submitted", upstream_task_id=submitted.task_id,
                           upstream_state=submitted.state)
            await self._store.update(done, expected=_RUNNING)
            return done, submitted
        raise AssertionError("unreachable")

    async def _recover(self, video: Video, adapter: RemoteAdapter, job: UpstreamJob, why: str) -> None:
        """After a submit that got no answer: find the task by our own id if the vendor allows, else fail."""
        handle = adapter.lookup_handle(job)
        if handle is not None:
            for _ in range(3):
                try:
                    async with self._limiters[adapter.config.name]:
                        status, body = await send(self._session, adapter.poll_request(handle, self._clock()),
                                                  adapter.config.timeout_seconds)
                    adapter.parse_poll(status, body)
                except UpstreamError as exc:
                    if exc.retryable:
                        await asyncio.sleep(_jitter(adapter.config.retry_backoff_seconds))
                        continue
                    break  # the vendor does not know the task
                video = replace(video, submit_state="submitted", upstream_task_id=handle.task_id,
                                upstream_state=handle.state)
                if await self._store.update(video, expected=_RUNNING):
                    await self._follow(video, adapter, handle)
                return
        await self._fail(video, "upstream_submit_ambiguous",
                         f"{why}; the provider may or may not have accepted the video, so it was not sent again. "
                         "Create the video again.")

    async def _follow(self, video: Video, adapter: RemoteAdapter, submitted: Submitted) -> None:
        name = adapter.config.name
        interval = adapter.config.poll_interval_seconds
        expected_end = video.created_at + 30 + 10 * int(video.seconds)  # rough, only paces polling
        delay, backoff = min(interval, 2.0), adapter.config.retry_backoff_seconds
        failing_since: float | None = None
        while True:
            due = time.monotonic() + delay
            await asyncio.sleep(delay)
            if self._clock() - video.created_at > TASK_TIMEOUT_SECONDS:
                await self._fail(video, "upstream_timeout", "The provider did not finish the video in time.")
                return
            try:
                async with self._limiters[name]:
                    self.stats.record(max(0.0, time.monotonic() - due))
                    status, body = await send(self._session, adapter.poll_request(submitted, self._clock()),
                                              adapter.config.timeout_seconds)
                upstream = adapter.parse_poll(status, body)
            except UpstreamError as exc:
                failing_since = failing_since or time.monotonic()
                if not exc.retryable or time.monotonic() - failing_since > OUTAGE_SECONDS:
                    await self._fail(video, exc.code, exc.message)
                    return
                log.info("polling %s: %s (retrying)", video.id, exc.message)
                delay, backoff = _jitter(exc.retry_after or backoff), min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            backoff, failing_since = adapter.config.retry_backoff_seconds, None
            current = await self._apply(video, upstream)
            if current is None:
                return  # deleted, or it reached a terminal state
            video = current
            if upstream.status is VideoStatus.COMPLETED:
                await self._archive(video, adapter, upstream.video_url or "")
                return
            # Poll sooner as the expected end nears, never faster than MIN_POLL_SECONDS (or the interval).
            remaining = expected_end - self._clock()
            delay = max(min(MIN_POLL_SECONDS, interval), min(interval, remaining / 3 if remaining > 0 else interval / 2))

    async def _apply(self, video: Video, upstream: UpstreamStatus) -> Video | None:
        if upstream.status is VideoStatus.FAILED:
            await self._fail(video, upstream.error_code or "upstream_generation_failed",
                             upstream.error_message or "The provider could not generate the video.")
            return None
        if upstream.status is VideoStatus.QUEUED and video.status is VideoStatus.QUEUED:
            return video
        progress = upstream.progress if upstream.progress is not None else video.progress
        if upstream.status is VideoStatus.COMPLETED:
            progress = 99  # 100 once the file is ours
        updated = video.with_progress(max(progress, video.progress))
        if updated != video and not await self._save(updated, _RUNNING):
            return None
        return updated

    async def _archive(self, video: Video, adapter: RemoteAdapter, url: str) -> None:
        workdir = self._workdir / video.id
        await asyncio.to_thread(fresh_dir, workdir)
        target = workdir / "video.mp4"
        config = adapter.config
        delay = config.retry_backoff_seconds
        try:
            failing_since = time.monotonic()
            while True:
                try:
                    await download(self._downloads, url, target, headers=adapter.download_headers(self._clock()),
                                   max_bytes=int(config.max_download_mb * 1024 * 1024),
                                   connect_timeout=config.timeout_seconds,
                                   allowed_private=config.allow_private_hosts)
                    thumbnail, spritesheet = await self._workers.run("derive", (str(target), str(workdir)))
                    break
                except DownloadError as exc:
                    # Retry until the vendor says the file is gone (its URL expired) or stays broken too long.
                    if exc.gone or exc.permanent or time.monotonic() - failing_since > OUTAGE_SECONDS:
                        code = ("upstream_content_expired" if exc.gone else
                                "upstream_download_refused" if exc.permanent else "upstream_download_failed")
                        await self._fail(video, code, f"The finished video could not be fetched: {exc.message}.")
                        return
                    log.info("downloading %s failed (%s); retrying", video.id, exc.message)
                except WorkerFailed as exc:
                    await self._fail(video, "upstream_invalid_video", f"The provider's file is not a usable MP4: {exc.message}.")
                    return
                await asyncio.sleep(_jitter(delay))
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)
            for variant, path in ((Variant.VIDEO, target), (Variant.THUMBNAIL, Path(thumbnail)),
                                  (Variant.SPRITESHEET, Path(spritesheet))):
                await self._content.put_file(asset_key(video.id, variant), path)
        finally:
            await asyncio.to_thread(remove_dir, workdir)
        done = video.completed(int(self._clock()), self._retention)
        if not await self._save(done, (VideoStatus.IN_PROGRESS,)):
            await self._content.delete_prefix(video.id)

    async def _fail(self, video: Video, code: str, message: str) -> None:
        await self._save(video.failed(int(self._clock()), code, message), _RUNNING)

    async def _save(self, video: Video, expected: tuple[VideoStatus, ...]) -> bool:
        saved = await self._store.update(video, expected=expected)
        if saved:
            self._events.publish(video.id)
        return saved


def _jitter(seconds: float) -> float:
    return seconds * random.uniform(0.8, 1.2)
