"""Runs the real `vidgate serve` (gRPC service + Envoy) as a subprocess on free loopback ports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import TINY_MODEL_TOML, free_port

VIDGATE = str(Path(sys.executable).with_name("vidgate"))
BOOTSTRAP = "sk-e2e-bootstrap-key"


class ServeProcess:
    def __init__(self, data_dir: Path, extra_config: str = "", **env: str) -> None:
        self.data_dir = data_dir
        self.http_port, self.grpc_port = free_port(), free_port()
        data_dir.mkdir(parents=True, exist_ok=True)
        config = data_dir.parent / f"{data_dir.name}.toml"
        config.write_text(extra_config + TINY_MODEL_TOML)
        self.env = os.environ | {
            "VIDGATE_DATA_DIR": str(data_dir),
            "VIDGATE_CONFIG": str(config),
            "VIDGATE_HTTP_PORT": str(self.http_port),
            "VIDGATE_GRPC_PORT": str(self.grpc_port),
            "VIDGATE_ENVOY_ADMIN_PORT": "0",
            "VIDGATE_BOOTSTRAP_KEY": BOOTSTRAP,
            "VIDGATE_POLL_AFTER_MS": "50",
            "VIDGATE_LOG_LEVEL": "warning",
        } | env
        self.log = data_dir.parent / f"{data_dir.name}.log"
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/v1"

    def start(self, timeout: float = 60) -> ServeProcess:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [VIDGATE, "serve"], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so a test can kill vidgate and Envoy together
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"vidgate serve exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                request = urllib.request.Request(f"{self.base_url}/videos?limit=1", headers={"Authorization": f"Bearer {BOOTSTRAP}"})
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"vidgate serve did not become ready:\n{self.log.read_text()}")

    def stop(self) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self) -> None:
        """SIGKILL vidgate and Envoy at once: a crash, not a shutdown."""
        assert self.process is not None
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)

    def cli(self, *args: str) -> str:
        result = subprocess.run([VIDGATE, *args], env=self.env, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"vidgate {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def new_key(self, *args: str) -> str:
        out = self.cli("keys", "create", *args)
        return next(line.split()[-1] for line in out.splitlines() if line.startswith("key:"))


def http(method: str, url: str, *, key: str | None = BOOTSTRAP, body: bytes | None = None,
         content_type: str | None = None) -> tuple[int, dict[str, str], bytes]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def http_json(method: str, url: str, **kwargs) -> tuple[int, dict]:
    status, _, body = http(method, url, **kwargs)
    return status, json.loads(body)
