"""Kling (可灵) text-to-video and image-to-video.

Mapping rules (see README, "Providers"): `seconds` -> `duration` as a string; `size` -> `mode`
(720p = std, 1080p = pro) and, for text2video only, `aspect_ratio`; image -> raw base64 without a
`data:` prefix; `external_task_id` = our video id, so an ambiguous submit can be looked up
instead of re-sent. `cfg_scale` is never sent to v2.x/v3 models.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt

from vidgate.domain.errors import InvalidRequest
from vidgate.domain.video import VideoStatus
from vidgate.providers.base import HttpRequest, ProviderConfig, Submitted, UpstreamError, UpstreamJob, UpstreamStatus
from vidgate.providers.errors import by_http_status, load_json

JWT_LIFETIME = 1800
JWT_LEEWAY = 5
# (mode, aspect_ratio) per exact OpenAI-style size.
SIZES = {
    "1280x720": ("std", "16:9"), "720x1280": ("std", "9:16"), "720x720": ("std", "1:1"),
    "1920x1080": ("pro", "16:9"), "1080x1920": ("pro", "9:16"), "1080x1080": ("pro", "1:1"),
}
STATUS = {
    "submitted": VideoStatus.QUEUED,
    "processing": VideoStatus.IN_PROGRESS,
    "succeed": VideoStatus.COMPLETED,
    "failed": VideoStatus.FAILED,
}
METADATA_ALLOWED = {"negative_prompt", "cfg_scale", "camera_control", "sound", "watermark_info", "image_tail"}
# Vendor code -> (our code, retryable). From Kling's error-code table.
CODES: dict[int, tuple[str, bool]] = {
    **{c: ("upstream_auth_failed", False) for c in (1000, 1001, 1002, 1003, 1004)},
    **{c: ("upstream_quota_exhausted", False) for c in (1100, 1101, 1102)},
    1103: ("upstream_permission_denied", False),
    1200: ("upstream_invalid_request", False), 1201: ("upstream_invalid_request", False),
    1202: ("upstream_invalid_request", False), 1203: ("upstream_invalid_request", False),
    1300: ("content_policy_violation", False), 1301: ("content_policy_violation", False),
    1302: ("upstream_rate_limited", True), 1303: ("upstream_concurrency_limited", True),
    1304: ("upstream_auth_failed", False),
    5000: ("upstream_unavailable", True), 5001: ("upstream_unavailable", True), 5002: ("upstream_unavailable", True),
}


def allowed_durations(model: str) -> tuple[int, ...]:
    return tuple(range(3, 16)) if model.startswith("kling-v3") else (5, 10)


def family(job: UpstreamJob) -> str:
    """Kling's endpoint family; polls must use the one the task was submitted to."""
    return "text2video" if job.image is None else "image2video"


def make_token(access_key: str, secret_key: str, now: float) -> str:
    issued = int(now)
    claims = {"iss": access_key, "exp": issued + JWT_LIFETIME, "nbf": issued - JWT_LEEWAY}
    return jwt.encode(claims, secret_key, algorithm="HS256", headers={"typ": "JWT"})


class KlingAdapter:
    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        for key in ("access_key", "secret_key"):
            if not config.credentials.get(key):
                raise ValueError(f"providers.{config.name}: kling needs '{key}'")

    def _headers(self, now: float) -> dict[str, str]:
        token = make_token(self.config.credentials["access_key"], self.config.credentials["secret_key"], now)
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def check(self, job: UpstreamJob) -> None:
        size = f"{job.width}x{job.height}"
        if size not in SIZES:
            raise InvalidRequest(f"Kling cannot render {size}; allowed sizes: {', '.join(SIZES)}.", param="size")
        durations = allowed_durations(job.upstream_model)
        if job.seconds not in durations:
            raise InvalidRequest(
                f"Kling model {job.upstream_model} accepts seconds {', '.join(map(str, durations))}.", param="seconds"
            )
        unknown = set(job.metadata) - METADATA_ALLOWED
        if unknown:
            raise InvalidRequest(
                f"metadata keys not allowed for Kling: {', '.join(sorted(unknown))}; "
                f"allowed: {', '.join(sorted(METADATA_ALLOWED))}.",
                param="metadata",
            )
        if "cfg_scale" in job.metadata and not job.upstream_model.startswith("kling-v1"):
            raise InvalidRequest(f"cfg_scale is not supported by {job.upstream_model}.", param="metadata.cfg_scale")

    def submit_request(self, job: UpstreamJob, now: float) -> HttpRequest:
        mode, aspect = SIZES[f"{job.width}x{job.height}"]
        body: dict[str, Any] = {
            "model_name": job.upstream_model,
            "prompt": job.prompt,
            "duration": str(job.seconds),
            "mode": mode,
            "external_task_id": job.video_id,
        }
        if job.image is None:
            body["aspect_ratio"] = aspect
        else:
            body["image"] = base64.b64encode(job.image).decode()
        body.update(job.metadata)  # allow-listed in check(): cannot touch model, ids or callbacks
        return HttpRequest("POST", f"{self.config.base_url}/v1/videos/{family(job)}", self._headers(now),
                           json.dumps(body).encode())

    def parse_submit(self, job: UpstreamJob, status: int, body: bytes) -> Submitted:
        data = self._data(status, body)
        task_id = data.get("task_id") if isinstance(data, dict) else None
        if not task_id:
            raise UpstreamError("upstream_bad_response", "Kling accepted the task but returned no task_id.", retryable=False,
                                ambiguous=True)
        return Submitted(task_id=str(task_id), state={"family": family(job)})

    def poll_request(self, submitted: Submitted, now: float) -> HttpRequest:
        endpoint = submitted.state.get("family", "text2video")
        return HttpRequest("GET", f"{self.config.base_url}/v1/videos/{endpoint}/{submitted.task_id}", self._headers(now))

    def parse_poll(self, status: int, body: bytes) -> UpstreamStatus:
        data = self._data(status, body)
        raw = data.get("task_status")
        mapped = STATUS.get(raw)
        if mapped is None:
            raise UpstreamError("upstream_unknown_status", f"Kling reported an unknown task_status {raw!r}.", retryable=True)
        if mapped is VideoStatus.FAILED:
            reason = data.get("task_status_msg") or "Kling reported the task as failed without a reason."
            return UpstreamStatus(VideoStatus.FAILED, error_code="upstream_generation_failed", error_message=f"Kling: {reason}")
        if mapped is VideoStatus.COMPLETED:
            videos = (data.get("task_result") or {}).get("videos") or []
            url = videos[0].get("url") if videos and isinstance(videos[0], dict) else None
            if not url:
                return UpstreamStatus(VideoStatus.FAILED, error_code="upstream_no_output",
                                      error_message="Kling reported success but returned no video URL.")
            return UpstreamStatus(VideoStatus.COMPLETED, progress=100, video_url=url)
        return UpstreamStatus(mapped)

    def lookup_handle(self, job: UpstreamJob) -> Submitted | None:
        # Kling answers queries by the external_task_id we sent (our video id).
        return Submitted(task_id=job.video_id, state={"family": family(job)})

    def download_headers(self, now: float) -> dict[str, str]:
        return {}

    def _data(self, status: int, body: bytes) -> dict[str, Any]:
        payload = load_json(body, "Kling")
        if not isinstance(payload, dict):
            raise UpstreamError("upstream_bad_response", "Kling returned a JSON value that is not an object.", retryable=True)
        code = payload.get("code")
        if code == 0 and status == 200 and isinstance(payload.get("data"), dict):
            return payload["data"]
        message = str(payload.get("message") or f"HTTP {status}")
        if isinstance(code, int) and code in CODES:
            ours, retryable = CODES[code]
            raise UpstreamError(ours, f"Kling error {code}: {message}", retryable=retryable)
        raise by_http_status(status if status >= 400 else 502, f"code {code}: {message}", "Kling")
