"""What every remote (HTTP) provider adapter is: pure request builders and response parsers.

An adapter never performs I/O. `providers/http.py` executes the `HttpRequest`s it builds, and
`worker/remote.py` drives submit -> poll -> archive. That keeps every mapping unit-testable with
recorded upstream JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from vidgate.domain.video import VideoStatus


class Secret(str):
    """A credential: usable as a string, never shown by repr() or in logs."""

    def __repr__(self) -> str:
        return "Secret('***')"


@dataclass(frozen=True)
class ProviderConfig:
    name: str
    kind: str
    base_url: str
    credentials: dict[str, Secret] = field(default_factory=dict, repr=False)
    timeout_seconds: float = 30.0
    max_concurrent_tasks: int = 4
    requests_per_second: float = 5.0
    poll_interval_seconds: float = 5.0
    # First wait before retrying a failed call; doubles each time (jittered), capped at a minute.
    retry_backoff_seconds: float = 1.0
    max_download_mb: float = 512.0
    # Download hosts allowed even when they resolve to private/loopback addresses.
    allow_private_hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class UpstreamJob:
    """A validated video request as an adapter sees it."""

    video_id: str
    upstream_model: str
    prompt: str
    width: int
    height: int
    seconds: int
    image: bytes | None = None
    image_media_type: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # For a remix whose source this provider made: the source's upstream task id.
    remix_of: str | None = None


@dataclass(frozen=True)
class Submitted:
    task_id: str
    # Adapter-private facts needed to poll (e.g. Kling's endpoint family, Jimeng's req_key).
    state: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UpstreamStatus:
    status: VideoStatus
    progress: int | None = None
    video_url: str | None = None
    error_code: str | None = None
    error_message: str | None = None


class UpstreamError(Exception):
    """A failed upstream call. `retryable`: trying again (or another route) may work.
    `ambiguous`: the upstream may have accepted the request anyway, so it must not be re-sent."""

    def __init__(self, code: str, message: str, *, retryable: bool, ambiguous: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code, self.message = code, message
        self.retryable, self.ambiguous, self.retry_after = retryable, ambiguous, retry_after


class RemoteAdapter(Protocol):
    config: ProviderConfig

    def check(self, job: UpstreamJob) -> None:
        """Raises InvalidRequest naming what this route accepts, before anything is sent."""
        ...

    def submit_request(self, job: UpstreamJob, now: float) -> HttpRequest: ...

    def parse_submit(self, job: UpstreamJob, status: int, body: bytes) -> Submitted:
        """Raises UpstreamError for an error answer."""
        ...

    def poll_request(self, submitted: Submitted, now: float) -> HttpRequest: ...

    def parse_poll(self, status: int, body: bytes) -> UpstreamStatus: ...

    def download_headers(self, now: float) -> dict[str, str]:
        """Headers for fetching the finished video (only OpenAI-format upstreams need auth)."""
        ...

    def lookup_handle(self, job: UpstreamJob) -> Submitted | None:
        """A handle that polls the task by vidgate's own id, for vendors that index tasks by a caller id.
        Lets an ambiguous submit (no answer) be found instead of failed. None: no such lookup."""
        ...
