"""Kling, Jimeng and Vidu behind the OpenAI REST API: the official SDK against `vidgate serve` + Envoy,
with strict fake vendors on loopback."""

from __future__ import annotations

import time

import openai
import pytest

from tests.e2e.server import BOOTSTRAP, ServeProcess
from tests.fakes import jimeng as fj
from tests.fakes import kling as fk
from tests.fakes import vidu as fv
from tests.fakes.host import FakeHost
from tests.helpers import image_bytes, inspect_mp4
from vidgate.providers.local.render import render

pytestmark = pytest.mark.e2e

CONFIG = """
[providers.kling]
kind = "kling"
base_url = "{kling}"
access_key = "${{KLING_AK}}"
secret_key = "${{KLING_SK}}"
{common}

[providers.jimeng]
kind = "jimeng"
base_url = "{jimeng}"
access_key = "${{JM_AK}}"
secret_key = "${{JM_SK}}"
{common}

[providers.vidu]
kind = "vidu"
base_url = "{vidu}"
api_key = "${{VIDU_KEY}}"
{common}

[[models]]
name = "kling-v2-6"
provider = "kling"
sizes = ["1280x720", "720x1280"]
seconds = ["5", "10"]

[[models]]
name = "jimeng-3.0"
provider = "jimeng"
upstream_model = "jimeng-v30"
sizes = ["1280x720", "720x1280"]
seconds = ["5", "10"]

[[models]]
name = "vidu-q2"
provider = "vidu"
upstream_model = "viduq2"
sizes = ["1280x720", "720x1280"]
seconds = ["4", "8"]
"""
COMMON = """poll_interval_seconds = 0.1
retry_backoff_seconds = 0.1
requests_per_second = 50
allow_private_hosts = ["127.0.0.1"]"""
ENV = dict(KLING_AK=fk.ACCESS_KEY, KLING_SK=fk.SECRET_KEY, JM_AK=fj.ACCESS_KEY, JM_SK=fj.SECRET_KEY, VIDU_KEY=fv.API_KEY)


@pytest.fixture(scope="module")
def vendors(tmp_path_factory):
    mp4 = render(prompt="vendor", width=160, height=96, seconds=1, image=None,
                 out_dir=tmp_path_factory.mktemp("vendor")).video.read_bytes()
    host = FakeHost()
    fakes = {"kling": fk.FakeKling(video=mp4), "jimeng": fj.FakeJimeng(video=mp4), "vidu": fv.FakeVidu(video=mp4)}
    urls = {name: host.serve(fake.app()) for name, fake in fakes.items()}
    config = CONFIG.format(common=COMMON, **urls)
    server = ServeProcess(tmp_path_factory.mktemp("vendors") / "data", extra_config=config, **ENV).start()
    yield server, fakes, mp4
    assert server.stop() == 0
    host.close()


@pytest.fixture
def client(vendors):
    with openai.OpenAI(base_url=vendors[0].base_url, api_key=BOOTSTRAP, max_retries=0) as c:
        yield c


@pytest.mark.parametrize("model, seconds", [("kling-v2-6", "5"), ("jimeng-3.0", "10"), ("vidu-q2", "8")])
def test_text_and_image_to_video(client, vendors, model, seconds):
    _, _, mp4 = vendors
    video = client.videos.create_and_poll(prompt="a lighthouse", model=model, seconds=seconds, size="1280x720")
    assert (video.status, video.model, video.seconds, video.size) == ("completed", model, seconds, "1280x720")
    assert client.videos.download_content(video.id).content == mp4
    video = client.videos.create_and_poll(prompt="animate it", model=model, seconds=seconds, size="720x1280",
                                          input_reference=("first.png", image_bytes(720, 1280), "image/png"))
    assert video.status == "completed", video.error
    assert inspect_mp4(client.videos.download_content(video.id).content).frames == 24


def test_vendor_failures_reach_the_client_with_the_vendor_reason(client, vendors):
    _, fakes, _ = vendors
    fakes["kling"].fail_next_with = "Image pixel is invalid"
    failed = client.videos.create_and_poll(prompt="x", model="kling-v2-6", seconds="5", size="1280x720")
    assert failed.status == "failed" and "Image pixel is invalid" in failed.error.message
    fakes["vidu"].fail_next_with = "TaskPromptPolicyViolation"
    failed = client.videos.create_and_poll(prompt="x", model="vidu-q2", seconds="4", size="1280x720")
    assert (failed.error.code, failed.status) == ("content_policy_violation", "failed")
    with pytest.raises(openai.BadRequestError) as err:
        client.videos.create(prompt="x", model="jimeng-3.0", seconds="8")
    assert err.value.param == "seconds"


def test_metadata_from_the_sdk_reaches_the_vendor(client, vendors):
    _, fakes, _ = vendors
    video = client.videos.create_and_poll(prompt="x", model="kling-v2-6", seconds="5", size="1280x720",
                                          extra_body={"metadata": {"negative_prompt": "blurry", "sound": "off"}})
    assert video.status == "completed"
    sent = next(s for s in fakes["kling"].submits if s["external_task_id"] == video.id)
    assert (sent["negative_prompt"], sent["sound"]) == ("blurry", "off")
    with pytest.raises(openai.BadRequestError) as err:
        client.videos.create(prompt="x", model="vidu-q2", seconds="4", size="1280x720",
                             extra_body={"metadata": {"callback_url": "http://attacker.example"}})
    assert err.value.param == "metadata" and "callback_url" in err.value.message


def test_vendor_url_expiry_after_completion_changes_nothing(client, vendors):
    _, fakes, mp4 = vendors
    video = client.videos.create_and_poll(prompt="keep me", model="kling-v2-6", seconds="5", size="1280x720")
    fakes["kling"].file_gone = True
    try:
        assert client.videos.download_content(video.id).content == mp4
        assert client.videos.download_content(video.id, variant="thumbnail").content[:4] == b"RIFF"
    finally:
        fakes["kling"].file_gone = False


MODELS = {"kling": ("kling-v2-6", "5"), "jimeng": ("jimeng-3.0", "5"), "vidu": ("vidu-q2", "4")}


@pytest.mark.parametrize("vendor", ["kling", "jimeng", "vidu"])
def test_restart_mid_task_resumes_without_resubmitting(vendors, vendor):
    server, fakes, _ = vendors
    fake = fakes[vendor]
    usual = fake.polls_until_done
    fake.polls_until_done = 10**9  # keeps the task running until the restart
    model, seconds = MODELS[vendor]
    prompt = f"survive a crash at {vendor}"
    with openai.OpenAI(base_url=server.base_url, api_key=BOOTSTRAP, max_retries=0) as client:
        video = client.videos.create(prompt=prompt, model=model, seconds=seconds, size="1280x720")
        deadline = time.monotonic() + 20
        while not any(s.get("prompt") == prompt for s in fake.submits):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.3)  # a few polls in flight
        server.kill()
        fake.polls_until_done = 0
        server.start()
        assert client.videos.poll(video.id, poll_interval_ms=100).status == "completed"
    fake.polls_until_done = usual
    assert sum(1 for s in fake.submits if s.get("prompt") == prompt) == 1


def test_jimeng_moderation_after_generation_fails_with_the_vendor_reason(client, vendors):
    _, fakes, _ = vendors
    jimeng = fakes["jimeng"]
    jimeng.polls_until_done = 10**9
    try:
        video = client.videos.create(prompt="moderated", model="jimeng-3.0", seconds="5", size="1280x720")
        deadline = time.monotonic() + 20
        while not any(s["prompt"] == "moderated" for s in jimeng.submits):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        jimeng.codes = [50516]  # "Post Video Risk Not Pass" on the next poll
        failed = client.videos.poll(video.id, poll_interval_ms=100)
        assert (failed.status, failed.error.code) == ("failed", "content_policy_violation")
        assert "50516" in failed.error.message
    finally:
        jimeng.polls_until_done = 2
