"""The composition root: the only place that chooses adapters and wires them together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from collections.abc import Callable

import aiohttp
import grpc
from grpc_health.v1 import health, health_pb2

from vidgate import __version__
from vidgate.api.server import VIDEO_SERVICE, build_server
from vidgate.api.servicer import VideoServicer
from vidgate.auth import Authenticator
from vidgate.config import Settings, SettingsError
from vidgate.domain.service import Limits, VideoService
from vidgate.ports import VideoProvider
from vidgate.providers.base import ProviderConfig, RemoteAdapter
from vidgate.providers.jimeng import JimengAdapter
from vidgate.providers.kling import KlingAdapter
from vidgate.providers.local.provider import LocalRenderer, WorkerProcesses
from vidgate.providers.openai_format import OpenAIFormatAdapter
from vidgate.providers.vidu import ViduAdapter
from vidgate.storage.local import LocalContentStore
from vidgate.store.sqlite import SqliteStore
from vidgate.worker.dispatcher import Dispatcher
from vidgate.worker.events import VideoEvents
from vidgate.worker.download import download_session
from vidgate.worker.reaper import ExpiryReaper
from vidgate.worker.remote import RemoteRunner

log = logging.getLogger(__name__)
REAPER_INTERVAL_SECONDS = 60.0
SHUTDOWN_GRACE_SECONDS = 5.0


ADAPTERS: dict[str, Callable[[ProviderConfig], RemoteAdapter]] = {
    "kling": KlingAdapter, "jimeng": JimengAdapter, "vidu": ViduAdapter, "openai": OpenAIFormatAdapter,
}


def build_adapters(settings: Settings) -> dict[str, RemoteAdapter]:
    adapters = {}
    for config in settings.providers:
        try:
            adapters[config.name] = ADAPTERS[config.kind](config)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
    return adapters


@dataclass
class App:
    settings: Settings
    store: SqliteStore
    dispatcher: Dispatcher
    providers: dict[str, VideoProvider]
    session: aiohttp.ClientSession
    downloads: aiohttp.ClientSession
    server: grpc.aio.Server
    grpc_port: int
    health_servicer: health.aio.HealthServicer
    reaper: ExpiryReaper
    _reaper_task: asyncio.Task[None] | None = None

    @classmethod
    async def build(cls, settings: Settings) -> App:
        workers = WorkerProcesses()
        providers: dict[str, VideoProvider] = {"local": LocalRenderer(workers)}
        adapters = build_adapters(settings)
        store = await SqliteStore.open(settings.db_path)
        content = LocalContentStore(settings.content_dir)
        catalog = settings.catalog()
        events = VideoEvents()
        session = aiohttp.ClientSession(headers={"User-Agent": f"vidgate/{__version__}"})
        downloads = download_session(frozenset(h for p in settings.providers for h in p.allow_private_hosts))
        remote = RemoteRunner(store=store, content=content, catalog=catalog, adapters=adapters, session=session,
                              downloads=downloads, workers=workers, events=events, workdir=settings.work_dir,
                              retention_seconds=settings.retention_seconds)
        dispatcher = Dispatcher(
            store=store,
            content=content,
            catalog=catalog,
            providers=providers,
            concurrency={"local": settings.max_concurrent_renders},
            workdir=settings.work_dir,
            events=events,
            retention_seconds=settings.retention_seconds,
            remote=remote,
        )
        service = VideoService(
            store=store,
            content=content,
            catalog=catalog,
            dispatcher=dispatcher,
            events=events,
            limits=Limits(
                max_inflight_per_key=settings.max_inflight_per_key,
                content_chunk_bytes=settings.content_chunk_kb * 1024,
            ),
        )
        servicer = VideoServicer(
            service,
            public_url=settings.public_url,
            default_url=f"http://{settings.host}:{settings.http_port}",
            poll_after_ms=settings.poll_after_ms,
            max_upload_bytes=settings.max_upload_bytes,
        )
        authenticator = Authenticator(store, bootstrap_key=settings.bootstrap_key)
        try:
            server, port, health_servicer = build_server(
                servicer,
                authenticator.authenticate,
                address=f"{settings.host}:{settings.grpc_port}",
                # Typed gRPC creates carry the image in one message: allow the upload cap plus the other fields.
                max_message_bytes=settings.max_upload_bytes + 1024 * 1024,
            )
        except RuntimeError:  # the port is taken: release what was opened before saying so
            await session.close()
            await downloads.close()
            await store.close()
            raise
        reaper = ExpiryReaper(store, content)
        return cls(settings, store, dispatcher, providers, session, downloads, server, port, health_servicer, reaper)

    async def start(self) -> None:
        await self.server.start()
        resumed = await self.dispatcher.resume()
        if resumed:
            log.info("resumed %d unfinished video(s) from the previous run", resumed)
        self._reaper_task = asyncio.create_task(self.reaper.run(REAPER_INTERVAL_SECONDS))
        for name in ("", VIDEO_SERVICE):
            await self.health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def stop(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Drains RPCs, stops generations (their records stay active, so the next start resumes them)."""
        await self.health_servicer.enter_graceful_shutdown()
        await self.server.stop(grace)
        if self._reaper_task is not None:
            self._reaper_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper_task
        await self.dispatcher.stop()
        for provider in self.providers.values():
            await provider.close()
        await self.session.close()
        await self.downloads.close()
        await self.store.close()
