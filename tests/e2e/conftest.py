from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.e2e.server import BOOTSTRAP, ServeProcess


@pytest.fixture(scope="session")
def serve(tmp_path_factory) -> Iterator[ServeProcess]:
    data = Path(tmp_path_factory.mktemp("e2e")) / "data"
    server = ServeProcess(data, VIDGATE_MAX_UPLOAD_MB="2", VIDGATE_MAX_INFLIGHT_PER_KEY="6").start()
    yield server
    code = server.stop()
    assert code == 0, server.log.read_text()


@pytest.fixture(scope="session")
def client(serve: ServeProcess) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=serve.base_url, api_key=BOOTSTRAP, max_retries=0) as c:
        yield c


@pytest.fixture
def fresh_client(serve: ServeProcess) -> Iterator[openai.OpenAI]:
    """A client with its own new key (created with the CLI while the server runs): an empty video list."""
    with openai.OpenAI(base_url=serve.base_url, api_key=serve.new_key("--name", "fresh"), max_retries=0) as c:
        yield c
