"""Checks that a downloaded file is a real MP4 video and makes the thumbnail and spritesheet from it.
Runs in a worker process, like rendering; keeps only the sampled frames in memory."""

from __future__ import annotations

from pathlib import Path

import av
from PIL import Image

from vidgate.providers.local import previews


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
            picks = previews.sprite_indexes(total)
            for index, frame in enumerate(container.decode(stream)):
                if index in picks or index == total // 2:
                    image = frame.to_image()
                    if index in picks:
                        tiles.append(previews.tile(image))
                    if index == total // 2:
                        thumbnail = previews.thumbnail(image)
                last = frame.to_image() if index == 0 or index == total - 1 else last
    except av.FFmpegError as exc:
        raise NotAVideo(f"the file cannot be decoded: {exc}") from None
    if last is None:
        raise NotAVideo("the file has no frames")
    while len(tiles) < previews.SPRITE_TILES:  # the container over-stated its frame count
        tiles.append(previews.tile(last))
    return previews.save(thumbnail or previews.thumbnail(last), tiles, out_dir)
