"""Shared rules for turning upstream HTTP answers into UpstreamErrors (declared tables, no text sniffing)."""

from __future__ import annotations

import json
from typing import Any

from vidgate.providers.base import UpstreamError


def load_json(body: bytes, provider: str) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        snippet = body[:200].decode("utf-8", "replace")
        raise UpstreamError("upstream_bad_response", f"{provider} returned a body that is not JSON: {snippet!r}",
                            retryable=True) from None


def by_http_status(status: int, message: str, provider: str, rejected_code: str | None = None) -> UpstreamError:
    """For answers without a declared vendor code table; `rejected_code` names a plain rejection
    when the upstream gave one (OpenAI-format bodies carry OpenAI error codes)."""
    if status == 429:
        return UpstreamError("upstream_rate_limited", f"{provider}: {message}", retryable=True)
    if status >= 500:
        return UpstreamError("upstream_unavailable", f"{provider}: {message}", retryable=True)
    if status in (401, 403):
        return UpstreamError("upstream_auth_failed", f"{provider} rejected vidgate's credentials: {message}", retryable=False)
    return UpstreamError(rejected_code or "upstream_rejected", f"{provider} rejected the request: {message}",
                         retryable=False)
