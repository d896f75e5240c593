import json

import pytest
from google.api import httpbody_pb2

from tests.helpers import image_bytes
from vidgate.api.create_body import read_create_request
from vidgate.domain.errors import InvalidRequest, PayloadTooLarge
from vidgate.gen.videos.v1 import videos_pb2

BOUNDARY = "0123456789abcdef0123456789abcdef"


def multipart(*parts: tuple[str, bytes, str | None]) -> bytes:
    out = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename:
            out += b"Content-Type: image/png\r\n"
        out += b"\r\n" + value + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


async def stream(body: bytes, content_type: str, chunk: int = 7):
    """Like Envoy: content type in the first message, the body split over several."""
    yield videos_pb2.CreateVideoRequest(http_body=httpbody_pb2.HttpBody(content_type=content_type, data=body[:chunk]))
    for i in range(chunk, len(body), chunk):
        yield videos_pb2.CreateVideoRequest(http_body=httpbody_pb2.HttpBody(data=body[i : i + chunk]))


MP = f"multipart/form-data; boundary={BOUNDARY}"


async def test_multipart_like_the_python_sdk():
    png = image_bytes(16, 16)
    body = multipart(("prompt", "a cat, é".encode(), None), ("model", b"sora-2", None), ("seconds", b"8", None),
                     ("size", b"1280x720", None), ("input_reference", png, "ref.png"))
    request = await read_create_request(stream(body, MP), 10_000)
    assert (request.prompt, request.model, request.seconds, request.size) == ("a cat, é", "sora-2", "8", "1280x720")
    assert request.image_bytes == png


async def test_multipart_bracketed_metadata_like_the_sdk_sends_it():
    body = multipart(("prompt", b"x", None), ("metadata[negative_prompt]", b"blurry", None),
                     ("metadata[seed]", b"42", None), ("metadata[bgm]", b"true", None))
    request = await read_create_request(stream(body, MP), 10_000)
    assert request.metadata == {"negative_prompt": "blurry", "seed": 42, "bgm": True}


async def test_multipart_bracketed_image_url():
    body = multipart(("prompt", b"x", None), ("input_reference[image_url]", b"data:image/png;base64,AAAA", None))
    request = await read_create_request(stream(body, MP), 10_000)
    assert request.image_url == "data:image/png;base64,AAAA"


@pytest.mark.parametrize(
    "parts, match",
    [
        ((("prompt", b"x", None), ("foo", b"1", None)), "Unrecognized request argument supplied: foo"),
        ((("prompt", b"x", None), ("prompt", b"y", None)), "more than once"),
        ((("prompt", b"x", "p.txt"),), "wrong kind"),
    ],
)
async def test_multipart_rejections(parts, match):
    with pytest.raises(InvalidRequest, match=match):
        await read_create_request(stream(multipart(*parts), MP), 10_000)


async def test_truncated_multipart_is_rejected():
    body = multipart(("prompt", b"x", None))[:-10]
    with pytest.raises(InvalidRequest, match="Malformed"):
        await read_create_request(stream(body, MP), 10_000)


@pytest.mark.parametrize("content_type", ["application/json", MP])
async def test_upload_over_the_cap_stops_reading(content_type):
    consumed = 0

    async def endless():
        nonlocal consumed
        head = multipart(("prompt", b"x", None)).split(b"--" + BOUNDARY.encode() + b"--")[0]
        head += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="input_reference"; filename="a.png"\r\n\r\n'.encode()
        yield videos_pb2.CreateVideoRequest(http_body=httpbody_pb2.HttpBody(content_type=content_type, data=b""))
        while True:
            consumed += 1
            yield videos_pb2.CreateVideoRequest(http_body=httpbody_pb2.HttpBody(data=head if consumed == 1 else b" " * 1024))

    with pytest.raises(PayloadTooLarge) as err:
        await read_create_request(endless(), 64 * 1024)
    assert err.value.http_status == 413
    assert consumed <= 66  # stopped at the first chunk past the cap, not at the end of the body


async def test_json_like_the_node_sdk():
    body = json.dumps({"prompt": "x", "seconds": 8, "input_reference": {"image_url": "data:image/png;base64,AA"}}).encode()
    request = await read_create_request(stream(body, "application/json"), 10_000)
    assert (request.prompt, request.seconds, request.image_url) == ("x", "8", "data:image/png;base64,AA")


@pytest.mark.parametrize(
    "body, match",
    [
        (b"{", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'{"prompt": "x", "colour": "red"}', "Unrecognized request argument supplied: colour"),
        (b'{"prompt": 5}', "'prompt' must be a string"),
        (b'{"prompt": "x", "input_reference": "data:"}', "must be an object"),
    ],
)
async def test_json_rejections(body, match):
    with pytest.raises(InvalidRequest, match=match):
        await read_create_request(stream(body, "application/json"), 10_000)


async def test_other_content_types_are_rejected():
    with pytest.raises(InvalidRequest, match="Unsupported Content-Type 'text/plain'"):
        await read_create_request(stream(b"hi", "text/plain"), 10_000)


async def test_typed_grpc_request():
    async def one():
        yield videos_pb2.CreateVideoRequest(
            prompt="p", size="1280x720", input_reference=videos_pb2.InputReference(image_data=b"img")
        )

    request = await read_create_request(one(), 10_000)
    assert (request.prompt, request.size, request.model, request.image_bytes) == ("p", "1280x720", None, b"img")
