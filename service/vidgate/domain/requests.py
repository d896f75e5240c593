"""Validation of create/remix requests, independent of how they arrived (multipart, JSON, gRPC)."""

from __future__ import annotations

import base64
import binascii
import io
import re
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, UnidentifiedImageError

from vidgate.domain.catalog import Catalog, ModelSpec
from vidgate.domain.errors import InvalidRequest

MAX_PROMPT_CHARS = 32000
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# Decompression-bomb guard: header dimensions are checked before any pixel is decoded.
MAX_IMAGE_PIXELS = 4096 * 4096
_DATA_URL_RE = re.compile(r"^data:(?P<mime>image/[a-z0-9.+-]+)?(?P<params>(;[^,;]*)*?);base64,(?P<data>.*)$", re.S | re.I)


@dataclass(frozen=True)
class CreateVideoInput:
    """What a client asked for, before any defaults or checks. None means "not given"."""

    prompt: str | None = None
    model: str | None = None
    seconds: str | None = None
    size: str | None = None
    image_bytes: bytes | None = None
    image_url: str | None = None
    file_id: str | None = None
    # Provider-specific options; checked against the serving provider's allow-list.
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True)
class ReferenceImage:
    data: bytes
    media_type: str
    width: int
    height: int


@dataclass(frozen=True)
class VideoSpec:
    """A fully validated generation request."""

    model: ModelSpec
    prompt: str
    size: str
    seconds: str
    image: ReferenceImage | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def validate_prompt(prompt: str | None) -> str:
    if prompt is None or not prompt.strip():
        raise InvalidRequest("Missing required parameter: 'prompt'.", param="prompt", code="missing_required_parameter")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidRequest(
            f"'prompt' is too long: {len(prompt)} characters, the maximum is {MAX_PROMPT_CHARS}.", param="prompt"
        )
    return prompt


def validate_create(request: CreateVideoInput, catalog: Catalog) -> VideoSpec:
    prompt = validate_prompt(request.prompt)
    model = catalog.get(_blank_to_none(request.model))
    size = model.resolve_size(_blank_to_none(request.size))
    seconds = model.resolve_seconds(_blank_to_none(request.seconds))
    image = _reference_image(request, model, size)
    return VideoSpec(model=model, prompt=prompt, size=size, seconds=seconds, image=image, metadata=request.metadata or {})


def _blank_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _reference_image(request: CreateVideoInput, model: ModelSpec, size: str) -> ReferenceImage | None:
    given = [x for x in (request.image_bytes, request.image_url, request.file_id) if x is not None]
    if not given:
        return None
    if len(given) > 1:
        raise InvalidRequest(
            "Give exactly one of an uploaded file, 'image_url' or 'file_id' for 'input_reference'.",
            param="input_reference",
        )
    if request.file_id is not None:
        raise InvalidRequest(
            "'input_reference.file_id' is not supported by this server; upload the image or send it as a data URL.",
            param="input_reference.file_id",
            code="unsupported_parameter",
        )
    if not model.accepts_image:
        raise InvalidRequest(f"Model {model.name!r} does not accept 'input_reference'.", param="input_reference")
    data = request.image_bytes if request.image_bytes is not None else decode_data_url(request.image_url or "")
    return inspect_image(data, size)


def decode_data_url(url: str) -> bytes:
    url = url.strip()
    if url.lower().startswith(("http://", "https://")):
        raise InvalidRequest(
            "Remote 'input_reference.image_url' URLs are not supported yet; send a base64 data URL "
            "(data:image/png;base64,...) or upload the file.",
            param="input_reference.image_url",
            code="unsupported_parameter",
        )
    match = _DATA_URL_RE.match(url)
    if not match:
        raise InvalidRequest(
            "'input_reference.image_url' must be a base64 data URL such as data:image/png;base64,....",
            param="input_reference.image_url",
        )
    try:
        return base64.b64decode(re.sub(r"\s+", "", match["data"]), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(
            "'input_reference.image_url' is not valid base64.", param="input_reference.image_url"
        ) from None


def image_media_type(data: bytes) -> str | None:
    """JPEG/PNG/WebP media type from the image header, None for anything else."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            return IMAGE_FORMATS.get(img.format or "")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return None


def inspect_image(data: bytes, size: str) -> ReferenceImage:
    """Reads only the image header: type and dimensions are checked before pixels are decoded."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, width, height = img.format, img.width, img.height
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise InvalidRequest(
            "'input_reference' is not a readable image; send JPEG, PNG or WebP.", param="input_reference"
        ) from None
    media_type = IMAGE_FORMATS.get(fmt or "")
    if media_type is None:
        raise InvalidRequest(
            f"'input_reference' has unsupported image type {fmt!r}; send JPEG, PNG or WebP.", param="input_reference"
        )
    if width * height > MAX_IMAGE_PIXELS:
        raise InvalidRequest(f"'input_reference' is too large ({width}x{height}).", param="input_reference")
    if f"{width}x{height}" != size:
        raise InvalidRequest(
            f"'input_reference' is {width}x{height} but the requested size is {size}; "
            "the image becomes the first frame, so its dimensions must match 'size'.",
            param="input_reference",
        )
    return ReferenceImage(data=data, media_type=media_type, width=width, height=height)
