"""Settings: one typed object, loaded and validated once at start-up, then passed down explicitly.

Precedence, lowest first: built-in defaults, the TOML file (`VIDGATE_CONFIG` / `--config`),
`VIDGATE_*` environment variables, command-line flags. Nothing else in vidgate reads the environment.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import re

from vidgate.domain.catalog import DEFAULT_MODEL, Catalog, ModelSpec, Route, default_models
from vidgate.providers.base import ProviderConfig, Secret

ENV_PREFIX = "VIDGATE_"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the key and where it came from."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    grpc_port: int = 50051
    http_port: int = 8080
    envoy_admin_port: int = 9901
    data_dir: Path = Path(".vidgate")
    config: Path | None = None
    bootstrap_key: str | None = field(default=None, repr=False)
    # Base URL clients use to reach /v1 (for `url` in Video); default: the host the request came to.
    public_url: str | None = None
    max_upload_mb: float = 20.0
    retention_hours: float = 24.0
    poll_after_ms: int = 1000
    max_concurrent_renders: int = 2
    max_inflight_per_key: int = 32
    content_chunk_kb: int = 1024
    log_level: str = "info"
    envoy_binary: Path | None = None
    gateway_dir: Path | None = None
    models: tuple[ModelSpec, ...] = field(default_factory=lambda: tuple(default_models()))
    default_model: str = DEFAULT_MODEL
    providers: tuple[ProviderConfig, ...] = ()

    @property
    def db_path(self) -> Path:
        return self.data_dir / "vidgate.db"

    @property
    def content_dir(self) -> Path:
        return self.data_dir / "content"

    @property
    def work_dir(self) -> Path:
        return self.data_dir / "work"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def retention_seconds(self) -> int:
        return int(self.retention_hours * 3600)

    def catalog(self) -> Catalog:
        return Catalog(self.models, self.default_model)


# Settings that can come from env/flags/TOML as scalars (models come from TOML only).
_SCALARS = {f.name: f for f in dataclasses.fields(Settings) if f.name not in ("models", "providers")}
_POSITIVE = {"max_upload_mb", "retention_hours", "poll_after_ms", "max_concurrent_renders", "max_inflight_per_key", "content_chunk_kb"}
_PORTS = {"grpc_port", "http_port", "envoy_admin_port"}


def env_name(key: str) -> str:
    return ENV_PREFIX + key.upper()


def load_settings(*, environ: Mapping[str, str], flags: Mapping[str, Any] | None = None) -> Settings:
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    values: dict[str, Any] = {}
    config_path = flags.get("config") or environ.get(env_name("config"))
    file_models: list[ModelSpec] | None = None
    replace_models = False
    if config_path:
        table = _read_toml(Path(config_path))
        values["providers"] = _providers_from_toml(table.pop("providers", {}), config_path, environ)
        file_models = _models_from_toml(table.pop("models", None), config_path)
        replace_models = bool(table.pop("replace_default_models", False))
        for key, raw in table.items():
            if key not in _SCALARS or key == "config":
                raise SettingsError(f"{config_path}: unknown setting {key!r}")
            values[key] = _convert(key, raw, f"{config_path}: {key}")
        values["config"] = Path(config_path)
    for key in _SCALARS:
        raw = environ.get(env_name(key))
        if raw not in (None, ""):
            values[key] = _convert(key, raw, env_name(key))
    for key, raw in flags.items():
        values[key] = _convert(key, raw, "--" + key.replace("_", "-"))
    if file_models is not None:
        base = [] if replace_models else [m for m in default_models() if m.name not in {fm.name for fm in file_models}]
        values["models"] = tuple(base + file_models)
    settings = Settings(**values)
    try:
        settings.catalog()
    except ValueError as exc:
        raise SettingsError(f"default_model: {exc}") from None
    known = {"local"} | {p.name for p in settings.providers}
    for model in settings.models:
        if len(model.routes) > 1 and any(r.provider == "local" for r in model.routes):
            raise SettingsError(f"models: model {model.name!r}: the local renderer cannot be one of several routes")
        for route in model.routes:
            if route.provider not in known:
                raise SettingsError(
                    f"models: model {model.name!r} routes to unknown provider {route.provider!r}; "
                    f"configured: {', '.join(sorted(known))}"
                )
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: invalid TOML: {exc}") from None


def _convert(key: str, raw: Any, source: str) -> Any:
    kind = _SCALARS[key].type
    try:
        if kind == "int":
            value: Any = int(raw)
        elif kind == "float":
            value = float(raw)
        elif kind in ("Path", "Path | None"):
            value = Path(str(raw)).expanduser()
        else:
            value = str(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"{source}: expected {kind.replace(' | None', '')}, got {raw!r}") from None
    if key in _PORTS and not 0 <= value <= 65535:
        raise SettingsError(f"{source}: port must be between 0 and 65535, got {value}")
    if key in _POSITIVE and value <= 0:
        raise SettingsError(f"{source}: must be greater than 0, got {value}")
    if key == "public_url" and value:
        value = value.rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise SettingsError(f"{source}: must start with http:// or https://, got {raw!r}")
    return value


def _models_from_toml(entries: Any, source: str) -> list[ModelSpec] | None:
    if entries is None:
        return None
    if not isinstance(entries, list):
        raise SettingsError(f"{source}: 'models' must be an array of tables ([[models]])")
    allowed = {f.name for f in dataclasses.fields(ModelSpec)} | {"upstream_model"}
    models = []
    for i, entry in enumerate(entries):
        where = f"{source}: models[{i}]"
        unknown = set(entry) - allowed
        if unknown:
            raise SettingsError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        try:
            entry = dict(entry)
            entry.setdefault("provider", "local")
            upstream = entry.pop("upstream_model", None)
            routes = entry.get("routes")
            if routes is not None:
                unknown_route_keys = {k for r in routes for k in r} - {"provider", "model", "priority", "weight"}
                if unknown_route_keys:
                    raise ValueError(f"routes: unknown key(s) {', '.join(sorted(unknown_route_keys))}")
                entry["routes"] = tuple(
                    Route(provider=str(r["provider"]), model=str(r.get("model", entry["name"])),
                          priority=int(r.get("priority", i)), weight=float(r.get("weight", 1.0)))
                    for i, r in enumerate(routes))
            elif upstream is not None:
                entry["routes"] = (Route(provider=entry["provider"], model=str(upstream)),)
            for key in ("sizes", "seconds"):
                entry[key] = tuple(str(v) for v in entry.get(key, ()))
            entry.setdefault("default_size", entry["sizes"][0] if entry["sizes"] else "")
            entry.setdefault("default_seconds", entry["seconds"][0] if entry["seconds"] else "")
            entry["default_seconds"] = str(entry["default_seconds"])
            models.append(ModelSpec(**entry))
        except (TypeError, ValueError, KeyError) as exc:
            raise SettingsError(f"{where}: {exc}") from None
    return models


PROVIDER_KINDS = {
    "kling": ("access_key", "secret_key"),
    "jimeng": ("access_key", "secret_key"),
    "vidu": ("api_key",),
    "openai": ("api_key",),
}
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PROVIDER_NUMBERS = {"timeout_seconds", "max_concurrent_tasks", "requests_per_second", "poll_interval_seconds",
                     "max_download_mb", "retry_backoff_seconds"}


def _providers_from_toml(tables: Any, source: str, environ: Mapping[str, str]) -> tuple[ProviderConfig, ...]:
    """`[providers.NAME]` tables. Credentials are `${ENV_VAR}` references, resolved here and kept as Secrets."""
    if not isinstance(tables, dict):
        raise SettingsError(f"{source}: 'providers' must be a table of [providers.NAME] tables")
    configs = []
    for name, table in tables.items():
        where = f"{source}: providers.{name}"
        if name == "local":
            raise SettingsError(f"{where}: 'local' is the embedded renderer's name")
        kind = table.get("kind")
        if kind not in PROVIDER_KINDS:
            raise SettingsError(f"{where}.kind: must be one of {', '.join(sorted(PROVIDER_KINDS))}, got {kind!r}")
        secrets = PROVIDER_KINDS[kind]
        allowed = {"kind", "base_url", "allow_private_hosts", *secrets, *_PROVIDER_NUMBERS}
        unknown = set(table) - allowed
        if unknown:
            raise SettingsError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        base_url = str(table.get("base_url", "")).rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise SettingsError(f"{where}.base_url: must be an http(s) URL")
        credentials = {key: Secret(_resolve(table.get(key), f"{where}.{key}", environ)) for key in secrets}
        numbers = {}
        for key in _PROVIDER_NUMBERS & set(table):
            value = table[key]
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise SettingsError(f"{where}.{key}: must be a positive number, got {value!r}")
            numbers[key] = int(value) if key == "max_concurrent_tasks" else float(value)
        hosts = table.get("allow_private_hosts", [])
        if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
            raise SettingsError(f"{where}.allow_private_hosts: must be a list of host names")
        configs.append(ProviderConfig(name=name, kind=kind, base_url=base_url, credentials=credentials,
                                      allow_private_hosts=tuple(hosts), **numbers))
    return tuple(configs)


def _resolve(raw: Any, where: str, environ: Mapping[str, str]) -> str:
    if not isinstance(raw, str) or not raw:
        raise SettingsError(f"{where}: missing; give it as \"${{ENV_VAR}}\"")
    match = _ENV_REF.fullmatch(raw.strip())
    if not match:
        raise SettingsError(f"{where}: credentials must be \"${{ENV_VAR}}\" references, not literal values")
    value = environ.get(match[1])
    if not value:
        raise SettingsError(f"{where}: environment variable {match[1]} is not set")
    return value
