"""`make bench`: vidgate's speed and memory, each figure next to a baseline measured in the same run.

  1. GET /v1/videos/{id} through Envoy (REST)  vs  the same GetVideo RPC straight over gRPC
  2. POST /v1/videos through Envoy              vs  CreateVideo straight over gRPC
  3. download of a 100 MB asset through Envoy   vs  reading the same file from disk
  4. service RSS during 8 concurrent downloads  vs  its idle RSS
  5. remote-task poller with 1k and 10k videos in flight at a fake Kling (own process), every task
     polled every 5 s: poll lag and CPU  vs  the same number of bare asyncio sleepers on that schedule

Everything runs on loopback against a real `vidgate serve` (gRPC service + Envoy) in a temp dir.
The machine is shared and noisy: compare ratios within one run, not absolute numbers across runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp
import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.e2e.server import BOOTSTRAP, ServeProcess  # noqa: E402
from vidgate.gen.videos.v1 import videos_pb2, videos_pb2_grpc  # noqa: E402

CONCURRENCY = 16
GET_REQUESTS = 3000
CREATE_REQUESTS = 300
ASSET_MB = 100
AUTH = {"Authorization": f"Bearer {BOOTSTRAP}"}
GRPC_AUTH = (("authorization", f"Bearer {BOOTSTRAP}"),)


async def timed_many(n: int, call) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue = iter(range(n))

    async def worker():
        for _ in queue:
            start = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return n / (time.perf_counter() - start), latencies


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="vidgate-bench-"))
    server = ServeProcess(tmp / "data", VIDGATE_MAX_INFLIGHT_PER_KEY="100000", VIDGATE_MAX_CONCURRENT_RENDERS="1").start()
    rows: list[tuple[str, str, str, str]] = []
    try:
        async with aiohttp.ClientSession(headers=AUTH, connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as http, \
                grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
            stub = videos_pb2_grpc.VideoServiceStub(channel)
            base = server.base_url

            async def rest_create():
                async with http.post(f"{base}/videos", json={"prompt": "bench", "model": "vidgate-tiny"}) as r:
                    assert r.status == 200, await r.text()
                    return (await r.json())["id"]

            video_id = await rest_create()
            while True:
                async with http.get(f"{base}/videos/{video_id}") as r:
                    if (await r.json())["status"] == "completed":
                        break
                await asyncio.sleep(0.05)

            async def rest_get():
                async with http.get(f"{base}/videos/{video_id}") as r:
                    assert r.status == 200
                    await r.read()

            async def grpc_get():
                await stub.GetVideo(videos_pb2.GetVideoRequest(video_id=video_id), metadata=GRPC_AUTH)

            await timed_many(200, rest_get)  # warm-up
            await timed_many(200, grpc_get)
            rest_rps, rest_lat = await timed_many(GET_REQUESTS, rest_get)
            grpc_rps, grpc_lat = await timed_many(GET_REQUESTS, grpc_get)
            rows.append(("GET video, req/s", f"{rest_rps:,.0f}", f"{grpc_rps:,.0f}", f"{rest_rps / grpc_rps:.2f}x"))
            rows.append(("GET video, p50 ms", f"{pct(rest_lat, 50):.2f}", f"{pct(grpc_lat, 50):.2f}", f"{pct(rest_lat, 50) / pct(grpc_lat, 50):.2f}x"))
            rows.append(("GET video, p99 ms", f"{pct(rest_lat, 99):.2f}", f"{pct(grpc_lat, 99):.2f}", f"{pct(rest_lat, 99) / pct(grpc_lat, 99):.2f}x"))

            async def grpc_create():
                async def one():
                    yield videos_pb2.CreateVideoRequest(prompt="bench", model="vidgate-tiny")
                await stub.CreateVideo(one(), metadata=GRPC_AUTH)

            rest_create_rps, _ = await timed_many(CREATE_REQUESTS, rest_create)
            grpc_create_rps, _ = await timed_many(CREATE_REQUESTS, grpc_create)
            rows.append(("POST create, req/s", f"{rest_create_rps:,.0f}", f"{grpc_create_rps:,.0f}", f"{rest_create_rps / grpc_create_rps:.2f}x"))

            # A 100 MB asset: the rendered MP4 is swapped for a large file (transport cost, not rendering).
            asset = server.data_dir / "content" / video_id / "video.mp4"
            with asset.open("wb") as f:
                for _ in range(ASSET_MB):
                    f.write(os.urandom(1024 * 1024))
            size = asset.stat().st_size

            async def rest_download() -> int:
                total = 0
                async with http.get(f"{base}/videos/{video_id}/content") as r:
                    assert r.status == 200 and int(r.headers["Content-Length"]) == size
                    async for chunk in r.content.iter_chunked(1024 * 1024):
                        total += len(chunk)
                assert total == size
                return total

            def disk_read() -> None:
                with asset.open("rb") as f:
                    while f.read(1024 * 1024):
                        pass

            await rest_download()  # warm the page cache for both sides
            start = time.perf_counter()
            await asyncio.to_thread(disk_read)
            disk_mbps = size / 1e6 / (time.perf_counter() - start)
            start = time.perf_counter()
            await rest_download()
            rest_mbps = size / 1e6 / (time.perf_counter() - start)
            rows.append((f"download {ASSET_MB} MB, MB/s", f"{rest_mbps:,.0f}", f"{disk_mbps:,.0f} (disk)", f"{rest_mbps / disk_mbps:.2f}x"))

            pid = server.process.pid
            idle = rss_mb(pid)
            peak = idle
            done = threading.Event()

            def sample():
                nonlocal peak
                while not done.is_set():
                    peak = max(peak, rss_mb(pid))
                    time.sleep(0.01)

            sampler = threading.Thread(target=sample)
            sampler.start()
            await asyncio.gather(*(rest_download() for _ in range(8)))
            done.set()
            sampler.join()
            rows.append(("service RSS, 8 parallel downloads, MB", f"{peak:,.0f} peak", f"{idle:,.0f} idle", f"+{peak - idle:,.0f} MB"))
    finally:
        server.stop()

    from tests.bench.poller import baseline, run_poller
    from tests.conftest import free_port

    for tasks in (1000, 10000):
        ours = await run_poller(tasks=tasks, interval=5.0, window=20.0, port=free_port())
        bare = await baseline(tasks=tasks, interval=5.0, window=20.0)
        wanted = tasks / 5.0
        rows.append((f"poller {tasks:,} tasks, polls/s", f"{ours.polls / ours.seconds:,.0f}", f"{wanted:,.0f} (schedule)",
                     f"{ours.polls / ours.seconds / wanted:.2f}x"))
        rows.append((f"poller {tasks:,} tasks, lag p50/p99 ms", f"{ours.lag_p50_ms:,.0f} / {ours.lag_p99_ms:,.0f}",
                     f"{bare.lag_p50_ms:,.0f} / {bare.lag_p99_ms:,.0f}", f"+{ours.lag_p99_ms - bare.lag_p99_ms:,.0f} ms"))
        rows.append((f"poller {tasks:,} tasks, CPU % of a core", f"{ours.cpu_percent:,.0f}",
                     f"{bare.cpu_percent:,.0f}", f"{ours.cpu_percent / max(0.1, bare.cpu_percent):.1f}x"))
        if ours.lost:
            rows.append((f"poller {tasks:,} tasks LOST", str(ours.lost), "0", "!"))

    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure':<{width}}  {'vidgate (REST via Envoy)':>24}  {'baseline':>18}  {'ratio':>8}")
    for name, ours, base, ratio in rows:
        print(f"{name:<{width}}  {ours:>24}  {base:>18}  {ratio:>8}")
    print("\nbaselines: GET/POST = the same RPC straight over gRPC (python grpc.aio client); "
          "download = reading the file from disk; RSS = the idle service; poller = bare asyncio sleepers. "
          "Concurrency", CONCURRENCY)
    print(json.dumps({r[0]: r[1:] for r in rows}), file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
