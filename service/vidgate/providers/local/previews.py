"""The two still previews of a video, made the same way for rendered and downloaded videos:
a WebP thumbnail of the middle frame and a JPEG spritesheet of evenly spaced frames."""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image

SPRITE_COLUMNS = 5
SPRITE_TILES = 10
SPRITE_TILE_WIDTH = 256
THUMBNAIL_MAX_WIDTH = 640


def sprite_indexes(total_frames: int) -> set[int]:
    return {round(i * (total_frames - 1) / (SPRITE_TILES - 1)) for i in range(SPRITE_TILES)}


def scaled(frame: Image.Image, target_width: int) -> Image.Image:
    target_height = max(2, round(frame.height * target_width / frame.width))
    return frame.resize((target_width, target_height), Image.Resampling.BILINEAR)


def tile(frame: Image.Image) -> Image.Image:
    return scaled(frame, SPRITE_TILE_WIDTH)


def thumbnail(frame: Image.Image) -> Image.Image:
    return scaled(frame, min(THUMBNAIL_MAX_WIDTH, frame.width))


def save(thumb: Image.Image, tiles: list[Image.Image], out_dir: Path) -> tuple[Path, Path]:
    """Writes thumbnail.webp and spritesheet.jpg into `out_dir`."""
    tile_w, tile_h = tiles[0].size
    sheet = Image.new("RGB", (tile_w * SPRITE_COLUMNS, tile_h * math.ceil(len(tiles) / SPRITE_COLUMNS)))
    for i, t in enumerate(tiles):
        sheet.paste(t, ((i % SPRITE_COLUMNS) * tile_w, (i // SPRITE_COLUMNS) * tile_h))
    thumbnail_path, spritesheet_path = out_dir / "thumbnail.webp", out_dir / "spritesheet.jpg"
    thumb.save(thumbnail_path, "WEBP", quality=80, method=4)
    sheet.save(spritesheet_path, "JPEG", quality=85)
    return thumbnail_path, spritesheet_path
