"""Any OpenAI-Videos-format upstream: another vidgate, an OpenAI-compatible gateway, a cloud deployment.

Create is sent as JSON (the spec allows it; the image as a base64 data URL), status comes from the
video object, and the finished file is fetched from the upstream's `/content` with our key.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from vidgate.domain.video import VideoStatus
from vidgate.providers.base import HttpRequest, ProviderConfig, Submitted, UpstreamError, UpstreamJob, UpstreamStatus
from vidgate.providers.errors import by_http_status, load_json

STATUS = {
    "queued": VideoStatus.QUEUED,
    "in_progress": VideoStatus.IN_PROGRESS,
    "processing": VideoStatus.IN_PROGRESS,  # some gateways say this; it means the same
    "completed": VideoStatus.COMPLETED,
    "failed": VideoStatus.FAILED,
}
METADATA_ALLOWED: frozenset[str] = frozenset()


class OpenAIFormatAdapter:
    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        if not config.credentials.get("api_key"):
            raise ValueError(f"providers.{config.name}: openai needs 'api_key'")

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config.credentials['api_key']}", "Content-Type": "application/json"}

    def check(self, job: UpstreamJob) -> None:
        from vidgate.domain.errors import InvalidRequest

        if job.metadata:
            raise InvalidRequest("OpenAI-format upstreams take no 'metadata' options.", param="metadata")

    def submit_request(self, job: UpstreamJob, now: float) -> HttpRequest:
        if job.remix_of:  # the upstream remixes its own video (same model, size and seconds)
            return HttpRequest("POST", f"{self.config.base_url}/v1/videos/{job.remix_of}/remix", self._headers(),
                               json.dumps({"prompt": job.prompt}).encode())
        body: dict[str, Any] = {
            "prompt": job.prompt,
            "model": job.upstream_model,
            "seconds": str(job.seconds),
            "size": f"{job.width}x{job.height}",
        }
        if job.image is not None:
            data_url = f"data:{job.image_media_type or 'image/png'};base64,{base64.b64encode(job.image).decode()}"
            body["input_reference"] = {"image_url": data_url}
        return HttpRequest("POST", f"{self.config.base_url}/v1/videos", self._headers(), json.dumps(body).encode())

    def parse_submit(self, job: UpstreamJob, status: int, body: bytes) -> Submitted:
        video = self._video(status, body)
        if not video.get("id"):
            raise UpstreamError("upstream_bad_response", "The upstream accepted the video but returned no id.",
                                retryable=False, ambiguous=True)
        return Submitted(task_id=str(video["id"]))

    def poll_request(self, submitted: Submitted, now: float) -> HttpRequest:
        return HttpRequest("GET", f"{self.config.base_url}/v1/videos/{submitted.task_id}", self._headers())

    def parse_poll(self, status: int, body: bytes) -> UpstreamStatus:
        video = self._video(status, body)
        raw = video.get("status")
        mapped = STATUS.get(raw)
        if mapped is None:
            raise UpstreamError("upstream_unknown_status", f"The upstream reported an unknown status {raw!r}.", retryable=True)
        progress = video.get("progress") if isinstance(video.get("progress"), int) else None
        if mapped is VideoStatus.FAILED:
            error = video.get("error") or {}
            return UpstreamStatus(VideoStatus.FAILED, error_code=str(error.get("code") or "upstream_generation_failed"),
                                  error_message=str(error.get("message") or "The upstream reported the video as failed."))
        if mapped is VideoStatus.COMPLETED:
            return UpstreamStatus(VideoStatus.COMPLETED, progress=100,
                                  video_url=f"{self.config.base_url}/v1/videos/{video['id']}/content")
        return UpstreamStatus(mapped, progress=progress)

    def lookup_handle(self, job: UpstreamJob) -> Submitted | None:
        return None  # no lookup by a caller-chosen id

    def download_headers(self, now: float) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config.credentials['api_key']}"}

    def _video(self, status: int, body: bytes) -> dict[str, Any]:
        payload = load_json(body, "The upstream")
        # A failed video also has an `error` field: only a body without an id is an error envelope.
        if status == 200 and isinstance(payload, dict) and payload.get("id"):
            return payload
        error = payload.get("error") if isinstance(payload, dict) else None
        message = (error or {}).get("message") if isinstance(error, dict) else None
        code = str(error["code"]) if isinstance(error, dict) and error.get("code") else None
        raise by_http_status(status if status >= 400 else 502, str(message or f"HTTP {status}"), "The upstream", code)
