"""Serve a fake vendor in its own process: `python -m tests.fakes.run kling PORT [polls_until_done]`.
Used by the poller benchmark so the fake's CPU is not counted as vidgate's."""

from __future__ import annotations

import sys

from aiohttp import web

from tests.fakes.kling import FakeKling


def main() -> None:
    kind, port = sys.argv[1], int(sys.argv[2])
    if kind != "kling":
        sys.exit(f"unknown fake {kind!r}")
    fake = FakeKling(video=b"", polls_until_done=int(sys.argv[3]) if len(sys.argv) > 3 else 10**9)
    web.run_app(fake.app(), host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
