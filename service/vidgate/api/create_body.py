"""Turns the CreateVideo request stream into a CreateVideoInput.

REST bodies arrive raw through Envoy (multipart/form-data from the Python SDK, JSON from the Node SDK
and older Python SDKs), split over several stream messages. They are parsed incrementally and the
byte count is checked as they arrive, so an oversized upload is refused without reading it whole.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from google.protobuf import json_format

from python_multipart.multipart import MultipartParser, parse_options_header

from vidgate.domain.errors import InvalidRequest, PayloadTooLarge, VidgateError
from vidgate.domain.requests import CreateVideoInput
from vidgate.gen.videos.v1 import videos_pb2

TEXT_FIELDS = ("prompt", "model", "seconds", "size")
# A text part larger than this is not a prompt: 32000 characters of 4-byte UTF-8 fit.
MAX_TEXT_PART_BYTES = 128 * 1024
MAX_PARTS = 32


async def read_create_request(
    messages: AsyncIterator[videos_pb2.CreateVideoRequest], max_body_bytes: int
) -> CreateVideoInput:
    first = await anext(aiter(messages), None)
    if first is None:
        raise InvalidRequest("Empty CreateVideo request.")
    if not first.HasField("http_body"):
        async for _ in messages:
            raise InvalidRequest("gRPC callers send CreateVideo as a single message with typed fields.")
        return _from_typed(first)

    content_type = first.http_body.content_type
    media_type, options = parse_options_header(content_type)
    media_type = media_type.decode().lower() if isinstance(media_type, bytes) else media_type.lower()
    chunks = _body_chunks(first, messages, max_body_bytes)
    if media_type == "multipart/form-data":
        boundary = options.get(b"boundary")
        if not boundary:
            raise InvalidRequest("multipart/form-data request without a boundary.")
        return await _from_multipart(chunks, boundary)
    if media_type == "application/json" or media_type.endswith("+json"):
        return await _from_json(chunks)
    raise InvalidRequest(
        f"Unsupported Content-Type {content_type or '(none)'!r}; send multipart/form-data or application/json."
    )


async def _body_chunks(
    first: videos_pb2.CreateVideoRequest, rest: AsyncIterator[videos_pb2.CreateVideoRequest], limit: int
) -> AsyncIterator[bytes]:
    total = 0

    def checked(message: videos_pb2.CreateVideoRequest) -> bytes:
        nonlocal total
        total += len(message.http_body.data)
        if total > limit:
            raise PayloadTooLarge(
                f"Request body is larger than the maximum of {limit} bytes ({limit / 1048576:g} MiB).",
                param="input_reference",
            )
        return message.http_body.data

    if data := checked(first):
        yield data
    async for message in rest:
        if data := checked(message):
            yield data


def _from_typed(message: videos_pb2.CreateVideoRequest) -> CreateVideoInput:
    ref = message.input_reference if message.HasField("input_reference") else None
    source = ref.WhichOneof("source") if ref is not None else None
    return CreateVideoInput(
        prompt=message.prompt or None,
        model=message.model or None,
        seconds=message.seconds or None,
        size=message.size or None,
        image_bytes=ref.image_data if source == "image_data" else None,
        image_url=ref.image_url if source == "image_url" else None,
        file_id=ref.file_id if source == "file_id" else None,
        metadata=json_format.MessageToDict(message.metadata) if message.HasField("metadata") else None,
    )


async def _from_json(chunks: AsyncIterator[bytes]) -> CreateVideoInput:
    body = bytearray()
    async for chunk in chunks:
        body += chunk
    try:
        # A body with an inline data-URL image can be 20 MiB: parse that off the event loop.
        data = json.loads(body) if len(body) < 256 * 1024 else await asyncio.to_thread(json.loads, body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRequest(f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    fields: dict[str, Any] = {}
    for key, value in data.items():
        if key in TEXT_FIELDS:
            fields[key] = _json_text(key, value)
        elif key == "input_reference":
            fields.update(_json_reference(value))
        elif key == "metadata":
            fields["metadata"] = _metadata(value)
        else:
            raise _unknown_parameter(key)
    return CreateVideoInput(**fields)


def _json_text(key: str, value: Any) -> str | None:
    if value is None:
        return None
    if key == "seconds" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise InvalidRequest(f"'{key}' must be a string.", param=key)
    return value


def _json_reference(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or set(value) - {"image_url", "file_id"}:
        raise InvalidRequest(
            "'input_reference' in a JSON body must be an object with 'image_url' or 'file_id'; "
            "upload files with multipart/form-data.",
            param="input_reference",
        )
    out = {}
    for key in ("image_url", "file_id"):
        if value.get(key) is not None:
            if not isinstance(value[key], str):
                raise InvalidRequest(f"'input_reference.{key}' must be a string.", param=f"input_reference.{key}")
            out[key] = value[key]
    return out


def _metadata(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidRequest("'metadata' must be a JSON object of provider options.", param="metadata")
    return value


def _unknown_parameter(name: str) -> InvalidRequest:
    return InvalidRequest(f"Unrecognized request argument supplied: {name}.", param=name, code="unknown_parameter")


class _Part:
    def __init__(self) -> None:
        self.headers: dict[str, bytes] = {}
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.name = ""
        self.is_file = False
        self.data = bytearray()


async def _from_multipart(chunks: AsyncIterator[bytes], boundary: bytes) -> CreateVideoInput:
    parts: list[_Part] = []
    problems: list[InvalidRequest] = []
    ended = False

    def current() -> _Part:
        return parts[-1]

    def on_part_begin() -> None:
        if len(parts) >= MAX_PARTS and not problems:
            problems.append(InvalidRequest(f"Too many form fields (more than {MAX_PARTS})."))
        parts.append(_Part())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        current().header_field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        current().header_value += data[start:end]

    def on_header_end() -> None:
        part = current()
        part.headers[part.header_field.decode("latin-1").lower()] = bytes(part.header_value)
        part.header_field.clear()
        part.header_value.clear()

    def on_headers_finished() -> None:
        part = current()
        _, options = parse_options_header(part.headers.get("content-disposition", b""))
        part.name = options.get(b"name", b"").decode("utf-8", "replace")
        part.is_file = b"filename" in options

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part = current()
        part.data += data[start:end]
        if not part.is_file and len(part.data) > MAX_TEXT_PART_BYTES and not problems:
            problems.append(InvalidRequest(f"Form field {part.name!r} is too long.", param=part.name or None))

    def on_end() -> None:
        nonlocal ended
        ended = True

    parser = MultipartParser(
        boundary,
        callbacks={
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_end": on_end,
        },
    )
    try:
        async for chunk in chunks:
            parser.write(chunk)
            if problems:
                raise problems[0]
        parser.finalize()
    except VidgateError:
        raise
    except Exception as exc:  # python-multipart raises its own errors for malformed bodies
        raise InvalidRequest(f"Malformed multipart/form-data body: {exc}.") from None
    if not ended:
        raise InvalidRequest("Malformed multipart/form-data body: it ends before the closing boundary.")
    return _fields_to_input(parts)


def _fields_to_input(parts: list[_Part]) -> CreateVideoInput:
    fields: dict[str, Any] = {}
    for part in parts:
        name = part.name
        if name == "input_reference" and part.is_file:
            key, value = "image_bytes", bytes(part.data)
        elif name in ("input_reference[image_url]", "input_reference[file_id]"):
            key, value = name[len("input_reference[") : -1], _text(part)
        elif name in TEXT_FIELDS and not part.is_file:
            key, value = name, _text(part)
        elif name.startswith("metadata[") and name.endswith("]") and not part.is_file:
            # The Python SDK encodes extra_body={"metadata": {...}} as metadata[key] parts.
            metadata = fields.setdefault("metadata", {})
            key = name[len("metadata[") : -1]
            if not key or key in metadata:
                raise InvalidRequest(f"Form field {name!r} is empty or given more than once.", param="metadata")
            metadata[key] = _form_scalar(_text(part))
            continue
        elif name == "metadata" and not part.is_file:
            try:
                key, value = "metadata", _metadata(json.loads(_text(part)))
            except json.JSONDecodeError:
                raise InvalidRequest("Form field 'metadata' must hold a JSON object.", param="metadata") from None
        elif name in TEXT_FIELDS or name == "input_reference":
            raise InvalidRequest(f"Form field {name!r} has the wrong kind (file vs. text).", param=name)
        else:
            raise _unknown_parameter(name or "(unnamed form field)")
        if key in fields:
            raise InvalidRequest(f"Form field {name!r} is given more than once.", param=name)
        fields[key] = value
    return CreateVideoInput(**fields)


def _form_scalar(text: str) -> Any:
    """Form values are text: numbers and booleans written as JSON become numbers and booleans."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    return value if isinstance(value, (int, float, bool)) else text


def _text(part: _Part) -> str:
    try:
        return part.data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest(f"Form field {part.name!r} is not valid UTF-8.", param=part.name) from None
