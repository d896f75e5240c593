"""vidgate in front of another vidgate: the OpenAI-format provider against a real OpenAI-format server."""

from __future__ import annotations

import hashlib

import openai
import pytest

from tests.e2e.server import BOOTSTRAP, ServeProcess
from tests.helpers import image_bytes, inspect_mp4

pytestmark = pytest.mark.e2e

RELAY = """
[providers.upstream]
kind = "openai"
base_url = "http://127.0.0.1:{port}"
api_key = "${{UPSTREAM_KEY}}"
poll_interval_seconds = 0.1
allow_private_hosts = ["127.0.0.1"]

[[models]]
name = "relay-tiny"
provider = "upstream"
upstream_model = "vidgate-tiny"
sizes = ["160x96", "96x160"]
seconds = ["1", "2"]
"""


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    root = tmp_path_factory.mktemp("chain")
    upstream = ServeProcess(root / "upstream").start()
    downstream = ServeProcess(root / "downstream", extra_config=RELAY.format(port=upstream.http_port),
                              UPSTREAM_KEY=BOOTSTRAP).start()
    yield upstream, downstream
    assert downstream.stop() == 0 and upstream.stop() == 0


def test_relay_create_poll_download(chain):
    upstream, downstream = chain
    with openai.OpenAI(base_url=downstream.base_url, api_key=BOOTSTRAP, max_retries=0) as client, \
            openai.OpenAI(base_url=upstream.base_url, api_key=BOOTSTRAP, max_retries=0) as upstream_client:
        video = client.videos.create_and_poll(prompt="relayed", model="relay-tiny", seconds="2",
                                              input_reference=("f.png", image_bytes(160, 96), "image/png"))
        assert (video.status, video.model, video.seconds, video.size) == ("completed", "relay-tiny", "2", "160x96")
        ours = client.videos.download_content(video.id).content
        assert inspect_mp4(ours).frames == 48
        theirs = [v for v in upstream_client.videos.list() if v.prompt == "relayed"]
        assert len(theirs) == 1 and theirs[0].model == "vidgate-tiny"  # submitted exactly once
        assert hashlib.sha256(upstream_client.videos.download_content(theirs[0].id).content).digest() == \
            hashlib.sha256(ours).digest()
        assert theirs[0].id != video.id  # upstream ids never leak

        remix = client.videos.remix(video.id, prompt="relayed again")
        remix = client.videos.poll(remix.id, poll_interval_ms=100)
        assert (remix.status, remix.remixed_from_video_id) == ("completed", video.id)
        upstream_remix = next(v for v in upstream_client.videos.list() if v.prompt == "relayed again")
        assert upstream_remix.remixed_from_video_id == theirs[0].id  # the upstream remixed its own video


def test_relay_refuses_metadata_and_unknown_sizes(chain):
    _, downstream = chain
    with openai.OpenAI(base_url=downstream.base_url, api_key=BOOTSTRAP, max_retries=0) as client:
        with pytest.raises(openai.BadRequestError) as err:
            client.videos.create(prompt="x", model="relay-tiny", size="1280x720")
        assert err.value.param == "size"
        with pytest.raises(openai.BadRequestError) as err:
            client.videos.create(prompt="x", model="relay-tiny", extra_body={"metadata": '{"seed": 1}'})
        assert err.value.param == "metadata"
