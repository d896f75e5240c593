"""Checks that a downloaded file is a real MP4 video and makes the thumbnail and spritesheet from it.
Runs in a worker process, like rendering; keeps only the sampled frames in memory."""

from __future__ import annotations

from pathlib import Path

import av
from PIL import Image

from vidgate.providers.local.render import SPRITE_TILE_WIDTH, SPRITE_TILES, THUMBNAIL_MAX_WIDTH, _scaled, _spritesheet


class NotAVideo(Exception):
    pass


def derive(video: Path, out_dir: Path) -> tuple[Path, Path]:
    tiles: list[Image.Image] = []
    thumbnail: Image.Image | None = None
    last: Image.Image | None = None
    try:
        with av.open(str(video)) as container:
            if container.format.name.split(",")[0] not in ("mov", "mp4"):
                raise NotAVideo(f"the file is {container.format.name}, not MP4")
            if not container.streams.video:
                raise NotAVideo("the file has no video stream")
            stream = container.streams.video[0]
            total = stream.frames or int((stream.duration or 0) * stream.time_base * (stream.average_rate or 24)) or 1
            picks = {round(i * (total - 1) / (SPRITE_TILES - 1)) for i in range(SPRITE_TILES)}
            for index, frame in enumerate(container.decode(stream)):
                if index in picks or index == total // 2:
                    image = frame.to_image()
                    if index in picks:
                        tiles.append(_scaled(image, SPRITE_TILE_WIDTH))
                    if index == total // 2:
                        thumbnail = _scaled(image, min(THUMBNAIL_MAX_WIDTH, image.width))
                last = frame.to_image() if index == 0 or index == total - 1 else last
    except av.FFmpegError as exc:
        raise NotAVideo(f"the file cannot be decoded: {exc}") from None
    if last is None:
        raise NotAVideo("the file has no frames")
    while len(tiles) < SPRITE_TILES:  # the container over-stated its frame count
        tiles.append(_scaled(last, SPRITE_TILE_WIDTH))
    thumbnail = thumbnail or _scaled(last, min(THUMBNAIL_MAX_WIDTH, last.width))
    thumbnail_path, spritesheet_path = out_dir / "thumbnail.webp", out_dir / "spritesheet.jpg"
    thumbnail.save(thumbnail_path, "WEBP", quality=80, method=4)
    _spritesheet(tiles).save(spritesheet_path, "JPEG", quality=85)
    return thumbnail_path, spritesheet_path
