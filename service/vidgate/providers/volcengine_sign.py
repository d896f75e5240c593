"""Volcengine request signing (HMAC-SHA256, V4-like), as the official SDKs do it."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

REGION = "cn-north-1"
SERVICE = "cv"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def canonical_query(params: dict[str, str]) -> str:
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items()))


def sign(*, access_key: str, secret_key: str, method: str, host: str, path: str, query: dict[str, str],
         body: bytes, x_date: str, content_type: str = "application/json") -> dict[str, str]:
    """Returns the headers to send (Authorization, X-Date, X-Content-Sha256, Content-Type, Host)."""
    body_hash = hashlib.sha256(body).hexdigest()
    headers = {"content-type": content_type, "host": host, "x-content-sha256": body_hash, "x-date": x_date}
    signed = ";".join(sorted(headers))
    canonical_headers = "".join(f"{name}:{headers[name].strip()}\n" for name in sorted(headers))
    canonical_request = "\n".join([method, path, canonical_query(query), canonical_headers, signed, body_hash])
    short_date = x_date[:8]
    scope = f"{short_date}/{REGION}/{SERVICE}/request"
    string_to_sign = "\n".join(["HMAC-SHA256", x_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = secret_key.encode()
    for part in (short_date, REGION, SERVICE, "request"):
        key = _hmac(key, part)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "Authorization": f"HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed}, Signature={signature}",
        "X-Date": x_date,
        "X-Content-Sha256": body_hash,
        "Content-Type": content_type,
        "Host": host,
    }
