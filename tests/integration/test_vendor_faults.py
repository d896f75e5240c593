"""The same failure drills against every vendor fake: rate limits, 5xx, garbage, hung submits, expired URLs."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from tests.fakes import jimeng as fj
from tests.fakes import kling as fk
from tests.fakes import vidu as fv
from tests.fakes.host import serving
from tests.integration.conftest import AUTH, start, stop
from tests.integration.test_grpc_api import create, wait_terminal
from vidgate.config import load_settings

PROVIDER = """
[providers.{name}]
kind = "{name}"
base_url = "{base}"
{credentials}
timeout_seconds = 0.5
poll_interval_seconds = 0.05
retry_backoff_seconds = 0.05
requests_per_second = 100
allow_private_hosts = ["127.0.0.1"]
"""
CREDENTIALS = {
    "kling": 'access_key = "${KLING_AK}"\nsecret_key = "${KLING_SK}"',
    "jimeng": 'access_key = "${JM_AK}"\nsecret_key = "${JM_SK}"',
    "vidu": 'api_key = "${VIDU_KEY}"',
}
MODELS = """
[[models]]
name = "kling-v2-6"
provider = "kling"
sizes = ["1280x720"]
seconds = ["5"]

[[models]]
name = "jimeng-3.0"
provider = "jimeng"
upstream_model = "jimeng-v30"
sizes = ["1280x720"]
seconds = ["5"]

[[models]]
name = "vidu-q2"
provider = "vidu"
upstream_model = "viduq2"
sizes = ["1280x720"]
seconds = ["5"]
"""
MODEL = {"kling": "kling-v2-6", "jimeng": "jimeng-3.0", "vidu": "vidu-q2"}
ENV = dict(KLING_AK=fk.ACCESS_KEY, KLING_SK=fk.SECRET_KEY, JM_AK=fj.ACCESS_KEY, JM_SK=fj.SECRET_KEY, VIDU_KEY=fv.API_KEY)


@pytest.fixture
async def setup(tmp_path, vendor_mp4):
    fakes = {"kling": fk.FakeKling(video=vendor_mp4), "jimeng": fj.FakeJimeng(video=vendor_mp4),
             "vidu": fv.FakeVidu(video=vendor_mp4)}
    async with contextlib.AsyncExitStack() as stack:
        config = ""
        for name, fake in fakes.items():
            base = await stack.enter_async_context(serving(fake.app()))
            config += PROVIDER.format(name=name, base=base, credentials=CREDENTIALS[name])
        path = tmp_path / "vendors.toml"
        path.write_text(config + MODELS)
        running = await start(load_settings(environ=ENV, flags={
            "data_dir": tmp_path / "data", "config": path, "grpc_port": 0, "bootstrap_key": AUTH[0][1].split()[-1]}))
        yield running, fakes
        await stop(running)


VENDORS = ["kling", "jimeng", "vidu"]


@pytest.mark.parametrize("vendor", VENDORS)
async def test_rate_limits_5xx_and_garbage_are_retried_without_resubmitting(setup, vendor):
    server, fakes = setup
    fakes[vendor].inject = ["429", "500", "garbage"]  # the submit sees all three, then succeeds
    video = await create(server, prompt="x", model=MODEL[vendor], size="1280x720", seconds="5")
    assert (await wait_terminal(server, video.id)).status == "completed"
    assert len(fakes[vendor].submits) == 1


@pytest.mark.parametrize("vendor", VENDORS)
async def test_polls_survive_faults(setup, vendor):
    server, fakes = setup
    video = await create(server, prompt="x", model=MODEL[vendor], size="1280x720", seconds="5")
    while not fakes[vendor].submits:
        await asyncio.sleep(0.01)
    fakes[vendor].inject = ["500", "garbage", "429", "hang"]
    assert (await wait_terminal(server, video.id)).status == "completed"


@pytest.mark.parametrize("vendor", VENDORS)
async def test_expired_file_url_before_archiving_fails_clearly(setup, vendor):
    server, fakes = setup
    fakes[vendor].file_gone = True
    video = await create(server, prompt="x", model=MODEL[vendor], size="1280x720", seconds="5")
    failed = await wait_terminal(server, video.id)
    assert (failed.status, failed.error.code) == ("failed", "upstream_content_expired")


@pytest.mark.parametrize("vendor", ["jimeng", "vidu"])
async def test_hung_submit_is_never_resent(setup, vendor):
    server, fakes = setup
    fakes[vendor].inject = ["hang"]
    video = await create(server, prompt="x", model=MODEL[vendor], size="1280x720", seconds="5")
    failed = await wait_terminal(server, video.id)
    assert (failed.status, failed.error.code) == ("failed", "upstream_submit_ambiguous")
    assert fakes[vendor].submits == []
