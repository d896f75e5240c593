"""Small builders shared by the test tiers (images, MP4 inspection)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
from PIL import Image


def image_bytes(width: int, height: int, fmt: str = "PNG", colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, fmt)
    return out.getvalue()


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    width: int
    height: int
    frames: int
    seconds: float
    first_frame: Image.Image


def inspect_mp4(data: bytes) -> VideoInfo:
    """Decodes every frame, so a truncated or corrupt file fails here."""
    with av.open(io.BytesIO(data), format="mp4") as container:
        stream = container.streams.video[0]
        frames = 0
        first = None
        for frame in container.decode(stream):
            if first is None:
                first = frame.to_image()
            frames += 1
        seconds = float(stream.duration * stream.time_base)
        return VideoInfo(stream.codec_context.name, stream.width, stream.height, frames, seconds, first)


def image_info(data: bytes) -> tuple[str, int, int]:
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        return img.format, img.width, img.height
