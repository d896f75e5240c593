import pytest

from vidgate.config import SettingsError, load_settings
from vidgate.domain.video import VideoIdFactory, is_video_id


def test_precedence_defaults_file_env_flags(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('grpc_port = 1\nhttp_port = 2\nenvoy_admin_port = 3\n')
    s = load_settings(environ={"VIDGATE_CONFIG": str(config), "VIDGATE_HTTP_PORT": "20"}, flags={"envoy_admin_port": 30})
    assert (s.grpc_port, s.http_port, s.envoy_admin_port, s.poll_after_ms) == (1, 20, 30, 1000)


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"VIDGATE_GRPC_PORT": "abc"}, "VIDGATE_GRPC_PORT: expected int"),
        ({"VIDGATE_HTTP_PORT": "70000"}, "VIDGATE_HTTP_PORT: port must be"),
        ({"VIDGATE_MAX_UPLOAD_MB": "0"}, "VIDGATE_MAX_UPLOAD_MB: must be greater than 0"),
        ({"VIDGATE_PUBLIC_URL": "ftp://x"}, "VIDGATE_PUBLIC_URL: must start with http"),
        ({"VIDGATE_CONFIG": "/nonexistent.toml"}, "does not exist"),
    ],
)
def test_bad_settings_name_the_key(environ, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(environ=environ)


def test_models_from_toml(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[[models]]\nname = "tiny"\nsizes = ["64x64"]\nseconds = [1, 2]\n')
    s = load_settings(environ={}, flags={"config": str(config)})
    tiny = s.catalog().get("tiny")
    assert (tiny.default_size, tiny.seconds, tiny.provider) == ("64x64", ("1", "2"), "local")
    assert s.catalog().get("sora-2")  # defaults kept unless replace_default_models
    config.write_text('[[models]]\nname = "tiny"\nsizes = ["64x64"]\nseconds = ["1"]\ncolour = "red"\n')
    with pytest.raises(SettingsError, match=r"models\[0\]: unknown key\(s\) colour"):
        load_settings(environ={}, flags={"config": str(config)})
    config.write_text('bogus = 1\n')
    with pytest.raises(SettingsError, match="unknown setting 'bogus'"):
        load_settings(environ={}, flags={"config": str(config)})


def test_bootstrap_key_is_not_in_repr():
    assert "sk-secret" not in repr(load_settings(environ={"VIDGATE_BOOTSTRAP_KEY": "sk-secret"}))


def test_video_ids_sort_by_creation():
    factory = VideoIdFactory()
    ids = [factory.new() for _ in range(1000)]
    assert ids == sorted(ids) and len(set(ids)) == 1000
    assert all(is_video_id(i) for i in ids)
    assert not is_video_id("video_../etc") and not is_video_id("video_" + "g" * 48)


def test_shipped_provider_example_loads(tmp_path):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "providers.toml"
    env = {name: f"value-of-{name}" for name in ("KLING_ACCESS_KEY", "KLING_SECRET_KEY", "VOLC_ACCESS_KEY",
                                                   "VOLC_SECRET_KEY", "VIDU_API_KEY", "UPSTREAM_API_KEY",
                                                   "UPSTREAM_BACKUP_API_KEY")}
    settings = load_settings(environ=env, flags={"config": str(example)})
    assert {p.kind for p in settings.providers} == {"kling", "jimeng", "vidu", "openai"}
    assert [r.provider for r in settings.catalog().get("relay-sora-2").routes] == ["upstream", "upstream-backup"]
    assert "value-of-KLING_SECRET_KEY" not in repr(settings)
    from vidgate.app import build_adapters

    assert set(build_adapters(settings)) == {"kling", "jimeng", "vidu", "upstream", "upstream-backup"}
