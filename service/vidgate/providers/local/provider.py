"""The local renderer as a VideoProvider: each render runs in its own worker process.

Worker processes are forked from a forkserver that has already imported PyAV, Pillow and
numpy, so starting one is cheap and never forks the gRPC server's threads. One process per
render (rather than a fixed pool) lets a cancelled video's render be killed at once.
Progress arrives over a pipe the event loop watches with `add_reader`: nothing blocks the loop.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.connection
from pathlib import Path
from typing import Any

from vidgate.ports import ProgressCallback, ProviderError, RenderedAssets, RenderJob

log = logging.getLogger(__name__)
_RENDER_MODULE = "vidgate.providers.local.render"


def _worker_main(job: RenderJob, workdir: str, conn: multiprocessing.connection.Connection) -> None:
    from vidgate.providers.local import render as renderer

    last_sent = -1

    def on_frame(done: int, total: int) -> None:
        nonlocal last_sent
        percent = done * 100 // total
        if percent != last_sent:
            last_sent = percent
            conn.send(("progress", percent))

    try:
        out = renderer.render(
            prompt=job.prompt,
            width=job.width,
            height=job.height,
            seconds=job.seconds,
            image=job.image,
            out_dir=Path(workdir),
            on_frame=on_frame,
        )
        conn.send(("done", str(out.video), str(out.thumbnail), str(out.spritesheet)))
    except BrokenPipeError:
        pass  # the parent is gone or gave up on this render: nobody to report to
    except Exception as exc:  # reported to the parent, which fails the video with this reason
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


class LocalRenderer:
    name = "local"

    def __init__(self) -> None:
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload([_RENDER_MODULE])

    async def generate(self, job: RenderJob, workdir: Path, on_progress: ProgressCallback) -> RenderedAssets:
        loop = asyncio.get_running_loop()
        receiver, sender = self._ctx.Pipe(duplex=False)
        process = self._ctx.Process(target=_worker_main, args=(job, str(workdir), sender), daemon=True)
        messages: asyncio.Queue[Any] = asyncio.Queue()

        def on_readable() -> None:
            try:
                while receiver.poll():
                    messages.put_nowait(receiver.recv())
            except (EOFError, OSError):
                loop.remove_reader(receiver.fileno())
                messages.put_nowait(("exit",))

        try:
            # start() talks to the forkserver (and launches it the first time): keep it off the loop.
            await asyncio.to_thread(process.start)
            sender.close()
            loop.add_reader(receiver.fileno(), on_readable)
            while True:
                kind, *rest = await messages.get()
                if kind == "progress":
                    await on_progress(rest[0])
                elif kind == "done":
                    return RenderedAssets(*(Path(p) for p in rest))
                elif kind == "error":
                    raise ProviderError("render_failed", f"The local renderer failed: {rest[0]}")
                else:
                    await asyncio.to_thread(process.join, 5)
                    raise ProviderError(
                        "render_failed", f"The local renderer process exited unexpectedly (exit code {process.exitcode})."
                    )
        finally:
            # Kill before closing our end, so the worker never writes into a closed pipe.
            if process.is_alive():
                process.kill()
            if process.pid is not None:
                await asyncio.to_thread(process.join, 5)
                process.close()
            if not receiver.closed:
                loop.remove_reader(receiver.fileno())
                receiver.close()

    async def close(self) -> None:
        """Nothing pooled to release: each render's process ends with it."""
