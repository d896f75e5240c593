"""Vidu (生数): text2video or img2video by input, per-model durations and resolutions.

Mapping rules: `size` -> `aspect_ratio` (text2video only) + `resolution` from the short side (an
OpenAI size is never copied into `resolution`); `seconds` -> integer `duration` checked per model;
images as data URIs (Vidu requires the prefix); `err_code` is surfaced in failures.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from vidgate.domain.errors import InvalidRequest
from vidgate.domain.video import VideoStatus
from vidgate.providers.base import HttpRequest, ProviderConfig, Submitted, UpstreamError, UpstreamJob, UpstreamStatus
from vidgate.providers.errors import by_http_status, load_json
from vidgate.providers.shapes import aspect_ratio


def capabilities(model: str, image: bool, end_frame: bool = False) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """(durations, resolutions) a model accepts, from Vidu's model table."""
    if model.startswith("viduq2"):
        resolutions = ("720p", "1080p") if model == "viduq2-pro-fast" else ("540p", "720p", "1080p")
        return tuple(range(1, 9 if end_frame else 11)), resolutions
    if model.startswith("viduq1"):
        return (5,), ("1080p",)
    if model == "vidu2.0":
        return ((4, 8) if image else (4,)), ("360p", "720p", "1080p")
    raise InvalidRequest(f"Unknown Vidu model {model!r}; known families: viduq2*, viduq1*, vidu2.0.", param="model")


RESOLUTIONS = {360: "360p", 540: "540p", 720: "720p", 1080: "1080p"}
T2V_ASPECTS = {"16:9", "9:16", "1:1", "4:3", "3:4"}
# `end_image` (a data:image/... URL) asks for start-end2video with input_reference as the first frame.
METADATA_ALLOWED = {"seed", "movement_amplitude", "style", "bgm", "watermark", "wm_position", "off_peak", "end_image"}
STATUS = {"created": VideoStatus.QUEUED, "queueing": VideoStatus.QUEUED, "processing": VideoStatus.IN_PROGRESS}
POLICY = {"TaskPromptPolicyViolation", "CreationPolicyViolation"}
QUOTA = {"CreditInsufficient", "QuotaExceeded"}


class ViduAdapter:
    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        if not config.credentials.get("api_key"):
            raise ValueError(f"providers.{config.name}: vidu needs 'api_key'")

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.config.credentials['api_key']}", "Content-Type": "application/json"}

    @staticmethod
    def _shape(job: UpstreamJob) -> tuple[str | None, str | None]:
        return aspect_ratio(job.width, job.height), RESOLUTIONS.get(min(job.width, job.height))

    def check(self, job: UpstreamJob) -> None:
        end_image = job.metadata.get("end_image")
        if end_image is not None:
            if job.image is None:
                raise InvalidRequest("metadata.end_image needs input_reference as the first frame.",
                                     param="metadata.end_image")
            if not isinstance(end_image, str) or not end_image.startswith("data:image/"):
                raise InvalidRequest("metadata.end_image must be a data:image/...;base64, URL.",
                                     param="metadata.end_image")
        durations, resolutions = capabilities(job.upstream_model, job.image is not None, end_image is not None)
        if job.seconds not in durations:
            raise InvalidRequest(f"Vidu {job.upstream_model} accepts seconds {', '.join(map(str, durations))}.",
                                 param="seconds")
        aspect, resolution = self._shape(job)
        if resolution not in resolutions or (job.image is None and aspect not in T2V_ASPECTS):
            raise InvalidRequest(
                f"Vidu {job.upstream_model} cannot render {job.width}x{job.height}: it takes resolutions "
                f"{', '.join(resolutions)} (short side) with aspect ratios {', '.join(sorted(T2V_ASPECTS))}.",
                param="size")
        if job.upstream_model == "vidu2.0" and job.seconds == 8 and resolution != "720p":
            raise InvalidRequest("Vidu vidu2.0 renders 8-second videos only at 720p.", param="size")
        unknown = set(job.metadata) - METADATA_ALLOWED
        if unknown:
            raise InvalidRequest(f"metadata keys not allowed for Vidu: {', '.join(sorted(unknown))}; "
                                 f"allowed: {', '.join(sorted(METADATA_ALLOWED))}.", param="metadata")

    def submit_request(self, job: UpstreamJob, now: float) -> HttpRequest:
        aspect, resolution = self._shape(job)
        body: dict[str, Any] = {"model": job.upstream_model, "prompt": job.prompt, "duration": job.seconds,
                                "resolution": resolution}
        if job.image is None:
            endpoint = "text2video"
            body["aspect_ratio"] = aspect
        else:
            first = f"data:{job.image_media_type or 'image/png'};base64,{base64.b64encode(job.image).decode()}"
            end = job.metadata.get("end_image")
            endpoint = "start-end2video" if end else "img2video"
            body["images"] = [first, end] if end else [first]
        body.update({k: v for k, v in job.metadata.items() if k != "end_image"})
        return HttpRequest("POST", f"{self.config.base_url}/ent/v2/{endpoint}", self._headers(), json.dumps(body).encode())

    def parse_submit(self, job: UpstreamJob, status: int, body: bytes) -> Submitted:
        payload = self._payload(status, body)
        if not payload.get("task_id"):
            raise UpstreamError("upstream_bad_response", "Vidu accepted the task but returned no task_id.",
                                retryable=False, ambiguous=True)
        return Submitted(task_id=str(payload["task_id"]))

    def poll_request(self, submitted: Submitted, now: float) -> HttpRequest:
        return HttpRequest("GET", f"{self.config.base_url}/ent/v2/tasks/{submitted.task_id}/creations", self._headers())

    def parse_poll(self, status: int, body: bytes) -> UpstreamStatus:
        payload = self._payload(status, body)
        state = payload.get("state")
        if state == "success":
            creations = payload.get("creations") or []
            url = creations[0].get("url") if creations and isinstance(creations[0], dict) else None
            if not url:
                return UpstreamStatus(VideoStatus.FAILED, error_code="upstream_no_output",
                                      error_message="Vidu reported success but returned no creation URL.")
            return UpstreamStatus(VideoStatus.COMPLETED, progress=100, video_url=url)
        if state == "failed":
            err = str(payload.get("err_code") or "unknown")
            code = ("content_policy_violation" if err in POLICY else
                    "upstream_quota_exhausted" if err in QUOTA else "upstream_generation_failed")
            return UpstreamStatus(VideoStatus.FAILED, error_code=code, error_message=f"Vidu failed the task: {err}")
        if state in STATUS:
            return UpstreamStatus(STATUS[state])
        raise UpstreamError("upstream_unknown_status", f"Vidu reported an unknown state {state!r}.", retryable=True)

    def lookup_handle(self, job: UpstreamJob) -> Submitted | None:
        return None  # no lookup by a caller-chosen id

    def download_headers(self, now: float) -> dict[str, str]:
        return {}

    def _payload(self, status: int, body: bytes) -> dict[str, Any]:
        payload = load_json(body, "Vidu")
        if status == 200 and isinstance(payload, dict):
            return payload
        err = payload.get("err_code") or payload.get("message") if isinstance(payload, dict) else None
        if err in POLICY:
            raise UpstreamError("content_policy_violation", f"Vidu rejected the request: {err}", retryable=False)
        raise by_http_status(status if status >= 400 else 502, str(err or f"HTTP {status}"), "Vidu")
