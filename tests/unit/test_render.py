from PIL import ImageChops, ImageStat

from tests.helpers import image_bytes, image_info, inspect_mp4
from vidgate.providers.local.render import FPS, render


def test_renders_exact_size_and_duration_h264(tmp_path):
    progress = []
    out = render(prompt="a red kite", width=160, height=96, seconds=2, image=None, out_dir=tmp_path,
                 on_frame=lambda done, total: progress.append((done, total)))
    info = inspect_mp4(out.video.read_bytes())
    assert (info.codec, info.width, info.height, info.frames) == ("h264", 160, 96, 2 * FPS)
    assert abs(info.seconds - 2.0) < 1e-6
    assert progress[0] == (1, 48) and progress[-1] == (48, 48)
    assert image_info(out.thumbnail.read_bytes())[0] == "WEBP"
    fmt, width, height = image_info(out.spritesheet.read_bytes())
    assert fmt == "JPEG" and width == 5 * 256 and height > 0


def test_reference_image_is_the_first_frame(tmp_path):
    ref = image_bytes(160, 96, "PNG", colour=(20, 200, 60))
    out = render(prompt="grass", width=160, height=96, seconds=1, image=ref, out_dir=tmp_path)
    first = inspect_mp4(out.video.read_bytes()).first_frame.convert("RGB")
    from PIL import Image
    import io

    diff = ImageChops.difference(first, Image.open(io.BytesIO(ref)).convert("RGB"))
    assert max(ImageStat.Stat(diff).mean) < 6  # equal up to H.264/YUV rounding
