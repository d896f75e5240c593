"""Poller load harness: N videos in flight at a fake Kling (separate process), tracked by the real
RemoteRunner + SQLite store. Reports poll lag (how late polls run against their schedule), polls/s
achieved vs wanted, and CPU, next to a baseline of N bare asyncio sleepers on the same schedule.
Used by `make bench` (1k, 10k) and by the load test (smaller N, bounded)."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class PollerResult:
    tasks: int
    seconds: float
    polls: int
    wanted_polls: float
    lag_p50_ms: float
    lag_p99_ms: float
    lag_max_ms: float
    cpu_seconds: float
    lost: int

    @property
    def cpu_percent(self) -> float:
        return 100 * self.cpu_seconds / self.seconds


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _summary(lags: list[float]) -> tuple[float, float, float]:
    if len(lags) < 2:
        return 0.0, 0.0, 0.0
    q = statistics.quantiles(lags, n=100)
    return q[49] * 1000, q[98] * 1000, max(lags) * 1000


async def baseline(tasks: int, interval: float, window: float) -> PollerResult:
    """N coroutines that only sleep on the same schedule: the scheduler's own lag and CPU."""
    lags: list[float] = []

    async def sleeper(offset: float) -> None:
        await asyncio.sleep(offset)
        while True:
            due = time.monotonic() + interval
            await asyncio.sleep(interval)
            lags.append(max(0.0, time.monotonic() - due))

    runners = [asyncio.create_task(sleeper(i * interval / tasks)) for i in range(tasks)]
    cpu, start = _cpu(), time.monotonic()
    await asyncio.sleep(window)
    elapsed, used = time.monotonic() - start, _cpu() - cpu
    for r in runners:
        r.cancel()
    await asyncio.gather(*runners, return_exceptions=True)
    return PollerResult(tasks, elapsed, len(lags), tasks * window / interval, *_summary(lags), used, 0)


async def run_poller(tasks: int, interval: float, window: float, port: int) -> PollerResult:
    sys.path.insert(0, str(ROOT))
    from tests.fakes.kling import ACCESS_KEY, SECRET_KEY
    from vidgate.app import App
    from vidgate.config import load_settings
    from vidgate.domain.video import Video, VideoIdFactory

    fake = subprocess.Popen([sys.executable, "-m", "tests.fakes.run", "kling", str(port)], cwd=ROOT)
    tmp = Path(tempfile.mkdtemp(prefix="vidgate-poller-"))
    config = tmp / "c.toml"
    config.write_text(f"""
[providers.kling]
kind = "kling"
base_url = "http://127.0.0.1:{port}"
access_key = "${{AK}}"
secret_key = "${{SK}}"
max_concurrent_tasks = {tasks}
requests_per_second = {max(50, 2 * tasks / interval)}
poll_interval_seconds = {interval}
timeout_seconds = 30

[[models]]
name = "kling-v2-6"
provider = "kling"
sizes = ["1280x720"]
seconds = ["5"]
""")
    app = None
    try:
        await _wait_port(port)
        settings = load_settings(environ={"AK": ACCESS_KEY, "SK": SECRET_KEY},
                                 flags={"data_dir": tmp / "data", "config": config, "grpc_port": 0})
        app = await App.build(settings)
        await app.start()
        ids = VideoIdFactory()
        now = int(time.time())
        for i in range(tasks):
            video = Video(id=ids.new(), owner="bench", model="kling-v2-6", prompt=f"task {i}", size="1280x720",
                          seconds="5", quality="standard", created_at=now)
            await app.store.insert(video)
            app.dispatcher.submit(video)
        runner = app.dispatcher._remote
        # Wait for every task to be submitted before measuring steady-state polling.
        while runner.stats.polls < tasks:
            await asyncio.sleep(0.2)
        runner.stats.lags.clear()
        polls_before, cpu, start = runner.stats.polls, _cpu(), time.monotonic()
        await asyncio.sleep(window)
        elapsed, used = time.monotonic() - start, _cpu() - cpu
        polls = runner.stats.polls - polls_before
        lost = tasks - app.dispatcher.running
        return PollerResult(tasks, elapsed, polls, tasks * window / interval, *_summary(runner.stats.lags), used, lost)
    finally:
        if app is not None:
            await app.stop(grace=0.5)
        fake.terminate()
        fake.wait(10)


async def _wait_port(port: int) -> None:
    for _ in range(200):
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("fake vendor did not start")
