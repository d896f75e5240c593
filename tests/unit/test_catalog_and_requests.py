import base64

import pytest

from tests.helpers import image_bytes
from vidgate.domain.catalog import Catalog, ModelSpec, default_models
from vidgate.domain.errors import InvalidRequest
from vidgate.domain.requests import CreateVideoInput, validate_create

CATALOG = Catalog(default_models())


def test_defaults_follow_openai():
    spec = validate_create(CreateVideoInput(prompt="a cat"), CATALOG)
    assert (spec.model.name, spec.size, spec.seconds, spec.image) == ("sora-2", "720x1280", "4", None)


def test_pro_sizes_are_pro_only():
    assert validate_create(CreateVideoInput(prompt="x", model="sora-2-pro", size="1920x1080"), CATALOG).size == "1920x1080"
    with pytest.raises(InvalidRequest) as err:
        validate_create(CreateVideoInput(prompt="x", size="1920x1080"), CATALOG)
    assert err.value.param == "size"
    assert "720x1280, 1280x720" in err.value.message


@pytest.mark.parametrize("seconds", ["5", "4.0", "four", "16"])
def test_seconds_outside_catalog_are_rejected_with_allowed_values(seconds):
    with pytest.raises(InvalidRequest) as err:
        validate_create(CreateVideoInput(prompt="x", seconds=seconds), CATALOG)
    assert err.value.param == "seconds" and "4, 8, 12" in err.value.message


def test_unknown_model_names_what_exists():
    with pytest.raises(InvalidRequest) as err:
        validate_create(CreateVideoInput(prompt="x", model="sora-3"), CATALOG)
    assert err.value.param == "model" and err.value.code == "model_not_found"
    assert "sora-2-pro" in err.value.message


@pytest.mark.parametrize("prompt", [None, "", "   \n"])
def test_prompt_is_required(prompt):
    with pytest.raises(InvalidRequest) as err:
        validate_create(CreateVideoInput(prompt=prompt), CATALOG)
    assert err.value.param == "prompt"


def test_prompt_length_limit():
    assert validate_create(CreateVideoInput(prompt="x" * 32000), CATALOG)
    with pytest.raises(InvalidRequest, match="too long"):
        validate_create(CreateVideoInput(prompt="x" * 32001), CATALOG)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_reference_image_types(fmt):
    spec = validate_create(CreateVideoInput(prompt="x", image_bytes=image_bytes(720, 1280, fmt)), CATALOG)
    assert spec.image.media_type == f"image/{fmt.lower()}"


def test_reference_image_must_match_size():
    with pytest.raises(InvalidRequest) as err:
        validate_create(CreateVideoInput(prompt="x", image_bytes=image_bytes(1280, 720)), CATALOG)
    assert err.value.param == "input_reference" and "1280x720" in err.value.message


def test_reference_image_rejects_other_types_and_garbage():
    with pytest.raises(InvalidRequest, match="unsupported image type 'GIF'"):
        validate_create(CreateVideoInput(prompt="x", image_bytes=image_bytes(720, 1280, "GIF")), CATALOG)
    with pytest.raises(InvalidRequest, match="not a readable image"):
        validate_create(CreateVideoInput(prompt="x", image_bytes=b"not an image"), CATALOG)


def test_data_url_reference():
    url = "data:image/png;base64," + base64.b64encode(image_bytes(720, 1280)).decode()
    assert validate_create(CreateVideoInput(prompt="x", image_url=url), CATALOG).image.width == 720
    for bad in ("https://example.com/a.png", "data:image/png;base64,@@@", "not a url"):
        with pytest.raises(InvalidRequest) as err:
            validate_create(CreateVideoInput(prompt="x", image_url=bad), CATALOG)
        assert err.value.param == "input_reference.image_url"


def test_reference_sources_are_exclusive_and_file_id_is_unsupported():
    with pytest.raises(InvalidRequest, match="exactly one"):
        validate_create(CreateVideoInput(prompt="x", image_bytes=b"a", image_url="data:,"), CATALOG)
    with pytest.raises(InvalidRequest) as err:
        validate_create(CreateVideoInput(prompt="x", file_id="file_1"), CATALOG)
    assert err.value.code == "unsupported_parameter"


def test_model_spec_rejects_inconsistent_config():
    with pytest.raises(ValueError, match="default_size"):
        ModelSpec(name="m", provider="local", sizes=("64x64",), seconds=("1",), default_size="32x32", default_seconds="1")
    with pytest.raises(ValueError, match="even"):
        ModelSpec(name="m", provider="local", sizes=("63x64",), seconds=("1",), default_size="63x64", default_seconds="1")


def test_route_order_priority_then_weight():
    import random
    from collections import Counter

    from vidgate.domain.catalog import Route

    spec = ModelSpec(name="m", provider="a", sizes=("64x64",), seconds=("1",), default_size="64x64", default_seconds="1",
                     routes=(Route("a", "m", 0, 3.0), Route("b", "m", 0, 1.0), Route("backup", "m", 1)))
    rng = random.Random(7)
    orders = [spec.route_order(rng) for _ in range(4000)]
    assert all(order[-1].provider == "backup" for order in orders)  # lower priority always last
    first = Counter(order[0].provider for order in orders)
    assert 0.70 < first["a"] / 4000 < 0.80  # weight 3 : 1
    with pytest.raises(ValueError, match="weight"):
        Route("a", "m", weight=0)
