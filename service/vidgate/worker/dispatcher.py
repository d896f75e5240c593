"""Runs generations in the background: bounded per provider, persisted progress, resumable, cancellable."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from vidgate.domain.catalog import Catalog
from vidgate.domain.errors import InvalidRequest
from vidgate.domain.requests import VideoSpec
from vidgate.domain.video import Variant, Video, asset_key, sources_of
from vidgate.ports import ChangeFeed, ContentStore, ProviderError, RenderJob, VideoProvider, VideoStore
from vidgate.providers.base import UpstreamJob
from vidgate.worker.workdirs import fresh_dir, remove_dir
from vidgate.worker.remote import RemoteRunner

log = logging.getLogger(__name__)
# At most this many progress writes per second per video; the state machine moves forward anyway.
PROGRESS_WRITE_INTERVAL = 0.25


class Dispatcher:
    def __init__(
        self,
        *,
        store: VideoStore,
        content: ContentStore,
        catalog: Catalog,
        providers: Mapping[str, VideoProvider],
        concurrency: Mapping[str, int],
        workdir: Path,
        events: ChangeFeed,
        retention_seconds: int,
        remote: RemoteRunner | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store, self._content, self._catalog = store, content, catalog
        self._providers = providers
        self._slots = {name: asyncio.Semaphore(concurrency.get(name, 1)) for name in providers}
        self._workdir = workdir
        self._events = events
        self._retention = retention_seconds
        self._clock = clock
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._remote = remote

    def provider_for(self, model: str) -> str:
        spec = self._catalog.get(model)
        for route in spec.routes:
            if route.provider not in self._providers and (self._remote is None or self._remote.adapter(route.provider) is None):
                raise InvalidRequest(f"Model {model!r} has no configured provider {route.provider!r}.", param="model")
        return spec.provider

    def check(self, spec: VideoSpec) -> None:
        """What every route can do, checked before the video is accepted (a 400, never a substitution):
        whichever route ends up serving the video must honour it exactly."""
        width, height = (int(v) for v in spec.size.split("x"))
        for route in spec.model.routes:
            adapter = self._remote.adapter(route.provider) if self._remote else None
            if adapter is None:
                if spec.metadata:
                    raise InvalidRequest("The local renderer takes no 'metadata' options.", param="metadata")
                continue
            adapter.check(UpstreamJob(video_id="", upstream_model=route.model, prompt=spec.prompt, width=width,
                                      height=height, seconds=int(spec.seconds),
                                      image=spec.image.data if spec.image else None, metadata=spec.metadata))

    async def resume(self) -> int:
        """Restarts what a previous run left queued or in progress; fails what can no longer run. An
        in-progress video stays in progress (its progress only grows again once the new run passes it)."""
        resumed = 0
        for video in await self._store.list_active():
            try:
                self.provider_for(video.model)
            except InvalidRequest:
                await self._fail(video, "model_unavailable", f"Model {video.model!r} is no longer served here.")
                continue
            self.submit(video)
            resumed += 1
        return resumed

    def submit(self, video: Video) -> None:
        task = asyncio.create_task(self._run(video), name=f"generate {video.id}")
        self._tasks[video.id] = task
        task.add_done_callback(lambda done: self._finished(video.id, done))

    def _finished(self, video_id: str, task: asyncio.Task[None]) -> None:
        self._tasks.pop(video_id, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("generation of %s stopped unexpectedly", video_id, exc_info=task.exception())

    async def cancel(self, video_id: str) -> None:
        task = self._tasks.get(video_id)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def stop(self) -> None:
        """Stops every running generation, leaving its record active so the next start resumes it."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def _run(self, submitted: Video) -> None:
        provider_name = self.provider_for(submitted.model)
        if provider_name not in self._providers:
            assert self._remote is not None
            video = await self._store.get(submitted.id)
            if video is not None and not video.status.terminal:
                await self._remote.run(video)
            return
        async with self._slots[provider_name]:  # waiting here is what `queued` means
            video = await self._store.get(submitted.id)
            if video is None or video.status.terminal:
                return  # deleted or finished while it waited
            await self._generate(video, self._providers[provider_name])

    async def _generate(self, video: Video, provider: VideoProvider) -> None:
        video = video.with_progress(video.progress)  # in progress now; a resumed video keeps its progress
        if not await self._save(video):
            return
        image = None
        if video.input_reference_key:
            image = await self._content.get_bytes(video.input_reference_key)
            if image is None:
                await self._fail(video, "input_reference_missing", "The stored input_reference image is gone.")
                return
        workdir = self._workdir / video.id
        await asyncio.to_thread(fresh_dir, workdir)
        last_write = 0.0

        async def on_progress(percent: int) -> None:
            nonlocal video, last_write
            now = time.monotonic()
            if percent > video.progress and now - last_write >= PROGRESS_WRITE_INTERVAL:
                last_write = now
                video = video.with_progress(percent)
                await self._save(video)

        job = RenderJob(
            video_id=video.id,
            model=video.model,
            prompt=video.prompt,
            width=video.width,
            height=video.height,
            seconds=int(video.seconds),
            image=image,
        )
        try:
            assets = await provider.generate(job, workdir, on_progress)
            for variant, path in ((Variant.VIDEO, assets.video), (Variant.THUMBNAIL, assets.thumbnail), (Variant.SPRITESHEET, assets.spritesheet)):
                await self._content.put_file(asset_key(video.id, variant), path)
        except ProviderError as exc:
            await self._fail(video, exc.code, exc.message)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("generation of %s failed", video.id)
            await self._fail(video, "internal_error", "Generation failed because of an internal error.")
            return
        finally:
            await asyncio.to_thread(remove_dir, workdir)
        done = video.completed(int(self._clock()), self._retention)
        if not await self._save(done):
            # Deleted while we finished: its files must not outlive the record.
            await self._content.delete_prefix(video.id)

    async def _fail(self, video: Video, code: str, message: str) -> None:
        await self._save(video.failed(int(self._clock()), code, message))

    async def _save(self, video: Video) -> bool:
        """Compare-and-set along the state machine: a video never moves backwards or leaves a terminal state."""
        saved = await self._store.update(video, expected=sources_of(video.status))
        if saved:
            self._events.publish(video.id)
        return saved
