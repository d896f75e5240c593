"""Jimeng (即梦) through Volcengine's visual API (CVSync2AsyncSubmitTask / CVSync2AsyncGetResult).

Mapping rules: the route's model names a family and the input picks the req_key (text vs first-frame
image); the same req_key is stored and used to poll. `seconds` 5/10 -> `frames` 121/241. `size` ->
`aspect_ratio` for text-to-video (never empty). `generating` is in progress, not a failure.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import urlsplit

from vidgate.domain.errors import InvalidRequest
from vidgate.domain.video import VideoStatus
from vidgate.providers.base import HttpRequest, ProviderConfig, Submitted, UpstreamError, UpstreamJob, UpstreamStatus
from vidgate.providers.errors import by_http_status, load_json
from vidgate.providers.shapes import ASPECTS, aspect_ratio
from vidgate.providers.volcengine_sign import sign

VERSION = "2022-08-31"
# Route model -> (text-to-video req_key, first-frame image-to-video req_key).
FAMILIES = {
    "jimeng-v30": ("jimeng_t2v_v30", "jimeng_i2v_first_v30"),
    "jimeng-v30-1080p": ("jimeng_t2v_v30_1080p", "jimeng_i2v_first_v30_1080"),
    "jimeng-v30-pro": ("jimeng_ti2v_v30_pro", "jimeng_ti2v_v30_pro"),
}
FRAMES = {5: 121, 10: 241}
MAX_IMAGE_BYTES = int(4.7 * 1024 * 1024)
METADATA_ALLOWED = {"seed"}
STATUS = {"in_queue": VideoStatus.QUEUED, "generating": VideoStatus.IN_PROGRESS, "processing": VideoStatus.IN_PROGRESS}
RETRYABLE = {50429, 50430, 50500, 50501}
POLICY = {50411, 50412, 50413, 50511, 50512, 50516, 50517, 50518, 50519}


class JimengAdapter:
    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        for key in ("access_key", "secret_key"):
            if not config.credentials.get(key):
                raise ValueError(f"providers.{config.name}: jimeng needs '{key}'")
        self._host = urlsplit(config.base_url).netloc

    def _request(self, action: str, body: dict[str, Any], now: float) -> HttpRequest:
        raw = json.dumps(body, separators=(",", ":")).encode()
        query = {"Action": action, "Version": VERSION}
        headers = sign(access_key=self.config.credentials["access_key"], secret_key=self.config.credentials["secret_key"],
                       method="POST", host=self._host, path="/", query=query, body=raw,
                       x_date=time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now)))
        return HttpRequest("POST", f"{self.config.base_url}/?Action={action}&Version={VERSION}", headers, raw)

    def check(self, job: UpstreamJob) -> None:
        if job.upstream_model not in FAMILIES:
            raise InvalidRequest(f"Jimeng route model must be one of {', '.join(FAMILIES)}.", param="model")
        if job.seconds not in FRAMES:
            raise InvalidRequest("Jimeng accepts seconds 5, 10.", param="seconds")
        if job.image is None and aspect_ratio(job.width, job.height) is None:
            raise InvalidRequest(f"Jimeng has no aspect ratio for {job.width}x{job.height}; "
                                 f"it accepts {', '.join(ASPECTS)}.", param="size")
        if job.image is not None and len(job.image) > MAX_IMAGE_BYTES:
            raise InvalidRequest("Jimeng accepts input images up to 4.7 MB.", param="input_reference")
        unknown = set(job.metadata) - METADATA_ALLOWED
        if unknown:
            raise InvalidRequest(f"metadata keys not allowed for Jimeng: {', '.join(sorted(unknown))}; "
                                 f"allowed: {', '.join(sorted(METADATA_ALLOWED))}.", param="metadata")

    def req_key(self, job: UpstreamJob) -> str:
        text, image = FAMILIES[job.upstream_model]
        return text if job.image is None else image

    def submit_request(self, job: UpstreamJob, now: float) -> HttpRequest:
        body: dict[str, Any] = {"req_key": self.req_key(job), "prompt": job.prompt, "seed": -1,
                                "frames": FRAMES[job.seconds]}
        if job.image is None:
            body["aspect_ratio"] = aspect_ratio(job.width, job.height)
        else:
            body["binary_data_base64"] = [base64.b64encode(job.image).decode()]
        body.update(job.metadata)
        return self._request("CVSync2AsyncSubmitTask", body, now)

    def parse_submit(self, job: UpstreamJob, status: int, body: bytes) -> Submitted:
        data = self._data(status, body)
        if not data.get("task_id"):
            raise UpstreamError("upstream_bad_response", "Jimeng accepted the task but returned no task_id.",
                                retryable=False, ambiguous=True)
        return Submitted(task_id=str(data["task_id"]), state={"req_key": self.req_key(job)})

    def poll_request(self, submitted: Submitted, now: float) -> HttpRequest:
        return self._request("CVSync2AsyncGetResult", {"req_key": submitted.state["req_key"],
                                                       "task_id": submitted.task_id}, now)

    def parse_poll(self, status: int, body: bytes) -> UpstreamStatus:
        try:
            data = self._data(status, body)
        except UpstreamError as exc:
            if exc.retryable:
                raise
            # A business code on a finished task (e.g. output moderation) ends the video.
            return UpstreamStatus(VideoStatus.FAILED, error_code=exc.code, error_message=exc.message)
        raw = data.get("status")
        if raw == "done":
            if data.get("video_url"):
                return UpstreamStatus(VideoStatus.COMPLETED, progress=100, video_url=data["video_url"])
            return UpstreamStatus(VideoStatus.FAILED, error_code="upstream_no_output",
                                  error_message="Jimeng finished the task but returned no video_url.")
        if raw in ("not_found", "expired"):
            return UpstreamStatus(VideoStatus.FAILED, error_code="upstream_task_lost",
                                  error_message=f"Jimeng reports the task as {raw}.")
        if raw in STATUS:
            return UpstreamStatus(STATUS[raw])
        raise UpstreamError("upstream_unknown_status", f"Jimeng reported an unknown status {raw!r}.", retryable=True)

    def lookup_handle(self, job: UpstreamJob) -> Submitted | None:
        return None  # no lookup by a caller-chosen id

    def download_headers(self, now: float) -> dict[str, str]:
        return {}

    def _data(self, status: int, body: bytes) -> dict[str, Any]:
        payload = load_json(body, "Jimeng")
        if not isinstance(payload, dict):
            raise UpstreamError("upstream_bad_response", "Jimeng returned a JSON value that is not an object.", retryable=True)
        gateway_error = (payload.get("ResponseMetadata") or {}).get("Error")
        if gateway_error:  # Volcengine's own envelope: signature, key, action problems
            raise by_http_status(status if status >= 400 else 401,
                                 f"{gateway_error.get('Code')}: {gateway_error.get('Message')}", "Jimeng")
        code = payload.get("code")
        if code == 10000 and isinstance(payload.get("data"), dict):
            return payload["data"]
        message = f"Jimeng error {code}: {payload.get('message') or 'no message'}"
        if code in RETRYABLE:
            raise UpstreamError("upstream_rate_limited" if code in (50429, 50430) else "upstream_unavailable",
                                message, retryable=True)
        if code in POLICY:
            raise UpstreamError("content_policy_violation", message, retryable=False)
        if isinstance(code, int):
            raise UpstreamError("upstream_rejected", message, retryable=False)
        raise by_http_status(status if status >= 400 else 502, message, "Jimeng")
