"""Pure rendering: prompt (+ optional image) -> H.264 MP4, WebP thumbnail, JPEG spritesheet.

Runs inside a worker process (see `provider.py`); it never touches the event loop. The output is
a deterministic function of the job when each render runs in a fresh worker process, as the
local provider does: the scene's colours, motion and layout come from a hash of the prompt,
size, duration and image, and x264 runs with a fixed thread count.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vidgate.providers.local import previews

FPS = 24


@dataclass(frozen=True)
class RenderOutput:
    video: Path
    thumbnail: Path
    spritesheet: Path


def render(
    *,
    prompt: str,
    width: int,
    height: int,
    seconds: int,
    image: bytes | None,
    out_dir: Path,
    on_frame: Callable[[int, int], None] = lambda done, total: None,
) -> RenderOutput:
    total = seconds * FPS
    seed = _seed(prompt, width, height, seconds, image)
    scene = _Scene(prompt, width, height, total, seed, image)
    sprite_at = previews.sprite_indexes(total)
    sprite_tiles: list[Image.Image] = []
    thumbnail: Image.Image | None = None

    video_path = out_dir / "video.mp4"
    with av.open(str(video_path), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        # Fixed threads keep the bitstream identical across machines with different core counts.
        x264 = {"preset": "veryfast", "crf": "23", "threads": "2", "x264-params": "keyint=48:min-keyint=24"}
        stream = container.add_stream("libx264", rate=FPS, options=x264)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, FPS)
        for index in range(total):
            frame = scene.frame(index)
            if index in sprite_at:
                sprite_tiles.append(previews.tile(frame))
            if index == total // 2:
                thumbnail = previews.thumbnail(frame)
            video_frame = _yuv420_frame(frame)
            video_frame.pts = index  # explicit timestamps: the encoder must not guess them
            video_frame.time_base = stream.codec_context.time_base
            for packet in stream.encode(video_frame):
                container.mux(packet)
            on_frame(index + 1, total)
        for packet in stream.encode():
            container.mux(packet)

    assert thumbnail is not None
    thumbnail_path, spritesheet_path = previews.save(thumbnail, sprite_tiles, out_dir)
    return RenderOutput(video=video_path, thumbnail=thumbnail_path, spritesheet=spritesheet_path)


def _yuv420_frame(img: Image.Image) -> av.VideoFrame:
    """RGB -> limited-range BT.601 yuv420p, written into the frame with its row padding zeroed.

    Both serve determinism: swscale's SIMD paths round differently with buffer alignment, and
    nothing uninitialised should reach the encoder. libx264 still varies for some widths (96,
    1080) when one process encodes several videos, so renders run in a fresh worker each
    (provider.py), which makes the output identical run to run.
    """
    half = (img.width // 2, img.height // 2)
    y, cb, cr = (np.asarray(p, dtype=np.uint16) for p in img.convert("YCbCr").split())
    cb, cr = (np.asarray(Image.fromarray(c.astype(np.uint8)).resize(half, Image.Resampling.BOX), dtype=np.uint16) for c in (cb, cr))
    planes = [(y * 219 + 127) // 255 + 16, (cb * 224 + 127) // 255 + 16, (cr * 224 + 127) // 255 + 16]
    frame = av.VideoFrame(img.width, img.height, "yuv420p")
    for target, values in zip(frame.planes, planes):
        padded = np.zeros((target.height, target.line_size), dtype=np.uint8)
        padded[:, : target.width] = values
        target.update(padded)
    return frame


def _seed(prompt: str, width: int, height: int, seconds: int, image: bytes | None) -> int:
    digest = hashlib.sha256()
    for part in (prompt.encode(), f"{width}x{height}:{seconds}".encode(), image or b""):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return int.from_bytes(digest.digest()[:8], "big")


class _Scene:
    """An animated scene derived from the prompt: a drifting two-colour gradient (or the reference
    image, slowly zooming), orbiting discs, the prompt text and a progress bar with a timecode."""

    def __init__(self, prompt: str, width: int, height: int, total: int, seed: int, image: bytes | None) -> None:
        rng = random.Random(seed)
        self.width, self.height, self.total = width, height, total
        self.reference = _load_reference(image, width, height) if image else None
        a, b = _colour(rng), _colour(rng)
        # A gradient twice the frame height, so each frame is a cheap vertical window into it.
        ramp = (np.sin(np.linspace(0, 2 * np.pi, 2 * height, endpoint=False)) + 1) / 2
        column = (np.outer(ramp, b) + np.outer(1 - ramp, a)).astype(np.uint8)
        self.gradient = np.ascontiguousarray(np.broadcast_to(column[:, None, :], (2 * height, width, 3)))
        self.discs = [
            (_colour(rng), rng.uniform(0.04, 0.12), rng.uniform(0.1, 0.4), rng.uniform(0, 2 * math.pi), rng.choice((-1, 1)) * rng.uniform(0.5, 1.5))
            for _ in range(rng.randint(3, 6))
        ]
        self.overlay = self._text_overlay(prompt)

    def frame(self, index: int) -> Image.Image:
        t = index / max(1, self.total - 1)
        if self.reference is not None and index == 0:
            return self.reference.copy()  # the reference image is the exact first frame
        if self.reference is not None:
            img = _zoomed(self.reference, 1 + 0.15 * t)
        else:
            offset = int(t * self.height) % (2 * self.height)
            rows = np.take(self.gradient, range(offset, offset + self.height), axis=0, mode="wrap")
            img = Image.frombytes("RGB", (self.width, self.height), rows.tobytes())  # owns its pixels
        draw = ImageDraw.Draw(img)
        short = min(self.width, self.height)
        cx, cy = self.width / 2, self.height / 2
        for colour, radius, orbit, phase, speed in self.discs:
            angle = phase + speed * 2 * math.pi * t
            x = cx + math.cos(angle) * orbit * self.width
            y = cy + math.sin(angle) * orbit * self.height
            r = radius * short
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        img.paste(self.overlay, (0, 0), self.overlay)
        bar_h = max(4, self.height // 120)
        draw.rectangle((0, self.height - bar_h, int(self.width * (index + 1) / self.total), self.height), fill=(255, 255, 255))
        draw.text((short // 40, short // 40), f"{index / FPS:05.2f}s", fill=(255, 255, 255), font=_font(max(12, short // 24)))
        return img

    def _text_overlay(self, prompt: str) -> Image.Image:
        overlay = Image.new("RGBA", (self.width, self.height), (0, 0, 0, 0))
        size = max(12, min(self.width, self.height) // 22)
        font = _font(size)
        chars_per_line = max(10, int(self.width * 0.9 / (size * 0.55)))
        lines = textwrap.wrap(" ".join(prompt.split()), chars_per_line)[:6] or [""]
        line_h = int(size * 1.3)
        box_h = line_h * len(lines) + size
        top = self.height - box_h - self.height // 20
        draw = ImageDraw.Draw(overlay)
        draw.rectangle((0, top, self.width, top + box_h), fill=(0, 0, 0, 140))
        for i, line in enumerate(lines):
            draw.text((self.width // 20, top + size // 2 + i * line_h), line, fill=(255, 255, 255, 255), font=font)
        return overlay


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return tuple(rng.randint(30, 230) for _ in range(3))  # type: ignore[return-value]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _load_reference(data: bytes, width: int, height: int) -> Image.Image:
    with Image.open(io.BytesIO(data)) as img:
        img = img.convert("RGB")
    return img if img.size == (width, height) else img.resize((width, height), Image.Resampling.LANCZOS)


def _zoomed(img: Image.Image, factor: float) -> Image.Image:
    w, h = img.size
    cw, ch = w / factor, h / factor
    box = ((w - cw) / 2, (h - ch) / 2, (w + cw) / 2, (h + ch) / 2)
    return img.resize((w, h), Image.Resampling.BILINEAR, box=box)
