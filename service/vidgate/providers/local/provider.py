"""CPU work in worker processes (rendering, checking downloads) and the local renderer provider.

Worker processes are forked from a forkserver that has already imported PyAV, Pillow and numpy, so
starting one is cheap and never forks the gRPC server's threads. One process per job (rather than a
fixed pool) lets a cancelled video's work be killed at once, and gives every render the same fresh
process state, which keeps libx264's output identical run to run. Progress arrives over a pipe the
event loop watches with `add_reader`: nothing blocks the loop.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from vidgate.ports import ProgressCallback, ProviderError, RenderedAssets, RenderJob

_PRELOAD = ["vidgate.providers.local.render", "vidgate.providers.local.derive"]


class WorkerFailed(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


def _render(job: RenderJob, workdir: str, report: Callable[[int], None]) -> tuple[str, str, str]:
    from vidgate.providers.local.render import render

    last = -1

    def on_frame(done: int, total: int) -> None:
        nonlocal last
        if (percent := done * 100 // total) != last:
            last = percent
            report(percent)

    out = render(prompt=job.prompt, width=job.width, height=job.height, seconds=job.seconds, image=job.image,
                 out_dir=Path(workdir), on_frame=on_frame)
    return str(out.video), str(out.thumbnail), str(out.spritesheet)


def _derive(video: str, workdir: str, report: Callable[[int], None]) -> tuple[str, str]:
    from vidgate.providers.local.derive import derive

    thumbnail, spritesheet = derive(Path(video), Path(workdir))
    return str(thumbnail), str(spritesheet)


_TARGETS: dict[str, Callable[..., Any]] = {"render": _render, "derive": _derive}


def _worker_main(target: str, args: tuple[Any, ...], conn: multiprocessing.connection.Connection) -> None:
    try:
        result = _TARGETS[target](*args, lambda percent: conn.send(("progress", percent)))
        conn.send(("done", result))
    except BrokenPipeError:
        pass  # the parent is gone or gave up on this job: nobody to report to
    except Exception as exc:  # reported to the parent, which decides what it means
        conn.send(("error", type(exc).__name__, str(exc)))
    finally:
        conn.close()


class WorkerProcesses:
    def __init__(self) -> None:
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(_PRELOAD)

    async def run(self, target: str, args: tuple[Any, ...],
                  on_progress: Callable[[int], Awaitable[None]] | None = None) -> Any:
        loop = asyncio.get_running_loop()
        receiver, sender = self._ctx.Pipe(duplex=False)
        process = self._ctx.Process(target=_worker_main, args=(target, args, sender), daemon=True)
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
                    if on_progress is not None:
                        await on_progress(rest[0])
                elif kind == "done":
                    return rest[0]
                elif kind == "error":
                    raise WorkerFailed(rest[0], rest[1])
                else:
                    await asyncio.to_thread(process.join, 5)
                    raise WorkerFailed("exited", f"the worker process exited unexpectedly (exit code {process.exitcode})")
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


class LocalRenderer:
    name = "local"

    def __init__(self, workers: WorkerProcesses) -> None:
        self._workers = workers

    async def generate(self, job: RenderJob, workdir: Path, on_progress: ProgressCallback) -> RenderedAssets:
        try:
            paths = await self._workers.run("render", (job, str(workdir)), on_progress)
        except WorkerFailed as exc:
            raise ProviderError("render_failed", f"The local renderer failed: {exc.kind}: {exc.message}") from None
        return RenderedAssets(*(Path(p) for p in paths))

    async def close(self) -> None:
        """Nothing pooled to release: each job's process ends with it."""
