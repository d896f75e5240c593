"""The REST wire format itself: raw HTTP, exact JSON keys, headers, both create encodings."""

from __future__ import annotations

import base64
import json
import time

import pytest

from tests.e2e.server import BOOTSTRAP, ServeProcess, http, http_json
from tests.helpers import image_bytes, inspect_mp4

pytestmark = pytest.mark.e2e
VIDEO_KEYS = {"id", "object", "model", "status", "progress", "created_at", "prompt", "size", "seconds", "quality"}


def wait_completed(serve: ServeProcess, video_id: str) -> dict:
    for _ in range(600):
        status, video = http_json("GET", f"{serve.base_url}/videos/{video_id}")
        assert status == 200
        if video["status"] in ("completed", "failed"):
            return video
        time.sleep(0.05)
    raise AssertionError("video did not finish")


def test_json_create_with_data_url(serve: ServeProcess):
    data_url = "data:image/png;base64," + base64.b64encode(image_bytes(160, 96)).decode()
    body = json.dumps({"prompt": "json", "model": "vidgate-tiny", "seconds": 2, "input_reference": {"image_url": data_url}})
    status, video = http_json("POST", f"{serve.base_url}/videos", body=body.encode(), content_type="application/json")
    assert status == 200, video
    assert set(video) == VIDEO_KEYS and (video["status"], video["progress"], video["seconds"]) == ("queued", 0, "2")
    done = wait_completed(serve, video["id"])
    assert set(done) == VIDEO_KEYS | {"completed_at", "expires_at", "url"}
    assert all(isinstance(done[k], int) for k in ("created_at", "completed_at", "expires_at", "progress"))


def test_multipart_create_and_download_headers(serve: ServeProcess):
    boundary = "vidgateboundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nmultipart \u00fcber\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nvidgate-tiny\r\n--{boundary}--\r\n'
    ).encode()
    status, video = http_json("POST", f"{serve.base_url}/videos", body=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert status == 200 and video["prompt"] == "multipart \u00fcber"
    wait_completed(serve, video["id"])
    status, headers, content = http("GET", f"{serve.base_url}/videos/{video['id']}/content")
    assert status == 200
    assert headers["content-type"] == "video/mp4"
    assert headers["content-length"] == str(len(content))
    assert headers["content-disposition"] == f'attachment; filename="{video["id"]}.mp4"'
    assert not any(h.startswith(("grpc-", "x-content-length", "x-openai")) for h in headers)
    assert inspect_mp4(content).frames == 24


def test_poll_pace_header_while_unfinished(serve: ServeProcess):
    status, video = http_json("POST", f"{serve.base_url}/videos", body=b'{"prompt": "pace", "seconds": "8"}', content_type="application/json")
    status, headers, _ = http("GET", f"{serve.base_url}/videos/{video['id']}")
    assert status == 200 and headers["openai-poll-after-ms"] == "50"
    http("DELETE", f"{serve.base_url}/videos/{video['id']}")


@pytest.mark.parametrize(
    "method, path, body, content_type, status, code",
    [
        ("GET", "/nothing", None, None, 404, "not_found"),
        ("PUT", "/videos", b"{}", "application/json", 404, "not_found"),
        ("GET", "/videos?colour=red", None, None, 400, "invalid_parameter"),
        ("POST", "/videos/video_x/remix", b"{not json", "application/json", 400, "invalid_parameter"),
        ("POST", "/videos", b"prompt=x", "application/x-www-form-urlencoded", 400, "invalid_parameter"),
        ("GET", "/videos/video_x/content?variant=poster", None, None, 400, "invalid_parameter"),
    ],
)
def test_every_error_is_an_openai_envelope(serve, method, path, body, content_type, status, code):
    got_status, headers, raw = http(method, serve.base_url + path, body=body, content_type=content_type)
    assert got_status == status
    assert headers["content-type"] == "application/json"
    error = json.loads(raw)["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    assert (error["type"], error["code"]) == ("invalid_request_error", code)


def test_missing_key_is_401(serve: ServeProcess):
    status, body = http_json("GET", f"{serve.base_url}/videos", key=None)
    assert status == 401 and body["error"]["code"] == "invalid_api_key"


def test_keys_cli_lists_without_secrets(serve: ServeProcess):
    secret = serve.new_key("--name", "listed")
    listing = serve.cli("keys", "list")
    assert "listed" in listing and secret not in listing and secret[:10] in listing
    key_id = next(line.split()[0] for line in listing.splitlines() if " listed " in line)
    assert f"revoked {key_id}" in serve.cli("keys", "revoke", key_id)
    time.sleep(2.1)  # positive lookups are cached for 2 s
    assert http("GET", f"{serve.base_url}/videos", key=secret)[0] == 401


def test_download_that_breaks_midway_is_not_complete(serve: ServeProcess):
    """The stored file shrinks while it streams: the client must get an error, not a short body."""
    import http.client

    status, video = http_json("POST", f"{serve.base_url}/videos", body=b'{"prompt": "broken", "model": "vidgate-tiny"}',
                              content_type="application/json")
    wait_completed(serve, video["id"])
    asset = serve.data_dir / "content" / video["id"] / "video.mp4"
    asset.write_bytes(b"\0" * (64 * 1024 * 1024))
    conn = http.client.HTTPConnection("127.0.0.1", serve.http_port, timeout=30)
    conn.request("GET", f"/v1/videos/{video['id']}/content", headers={"Authorization": f"Bearer {BOOTSTRAP}"})
    response = conn.getresponse()
    assert response.status == 200 and response.getheader("content-length") == str(64 * 1024 * 1024)
    response.read(1024 * 1024)
    with asset.open("r+b") as f:
        f.truncate(8 * 1024 * 1024)
    with pytest.raises(http.client.IncompleteRead):
        response.read()
    conn.close()
