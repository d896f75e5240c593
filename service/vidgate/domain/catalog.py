"""The model catalog: which public model names exist, what each can do, and who renders it."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vidgate.domain.errors import InvalidRequest

DEFAULT_MODEL = "sora-2"


@dataclass(frozen=True)
class Route:
    """One way to serve a model: a configured provider and the model name it knows. Lower `priority`
    is tried first; routes of equal priority share the load in proportion to `weight`."""

    provider: str
    model: str
    priority: int = 0
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.weight <= 0:
            raise ValueError(f"route to {self.provider!r}: weight must be greater than 0")


@dataclass(frozen=True)
class ModelSpec:
    """One public model name and the exact values it accepts (never silently substituted)."""

    name: str
    provider: str
    sizes: tuple[str, ...]
    seconds: tuple[str, ...]
    default_size: str
    default_seconds: str
    quality: str = "standard"
    accepts_image: bool = True
    # Tried in order; empty means one route: `provider` with this model's own name.
    routes: tuple[Route, ...] = ()

    def __post_init__(self) -> None:
        if not self.routes:
            object.__setattr__(self, "routes", (Route(self.provider, self.name),))
        object.__setattr__(self, "provider", self.routes[0].provider)
        if not self.sizes or not self.seconds:
            raise ValueError(f"model {self.name!r}: sizes and seconds must not be empty")
        for size in self.sizes:
            parse_size(size)
        for sec in self.seconds:
            if not sec.isdigit() or int(sec) <= 0:
                raise ValueError(f"model {self.name!r}: seconds value {sec!r} is not a positive whole number")
        if self.default_size not in self.sizes:
            raise ValueError(f"model {self.name!r}: default_size {self.default_size!r} is not in sizes")
        if self.default_seconds not in self.seconds:
            raise ValueError(f"model {self.name!r}: default_seconds {self.default_seconds!r} is not in seconds")

    def route_order(self, rng: random.Random) -> list[Route]:
        """The order to try routes in for one video: by priority, weighted-random within a priority."""
        # Efraimidis-Spirakis: sorting by u ** (1 / weight) is a weighted shuffle.
        return sorted(self.routes, key=lambda r: (r.priority, -(rng.random() ** (1 / r.weight))))

    def resolve_size(self, size: str | None) -> str:
        if size is None:
            return self.default_size
        if size not in self.sizes:
            raise InvalidRequest(
                f"Invalid size {size!r} for model {self.name!r}. Allowed values: {', '.join(self.sizes)}.", param="size"
            )
        return size

    def resolve_seconds(self, seconds: str | None) -> str:
        if seconds is None:
            return self.default_seconds
        if seconds not in self.seconds:
            raise InvalidRequest(
                f"Invalid seconds {seconds!r} for model {self.name!r}. Allowed values: {', '.join(self.seconds)}.",
                param="seconds",
            )
        return seconds


def parse_size(size: str) -> tuple[int, int]:
    """`"1280x720"` -> (1280, 720); even dimensions because H.264 4:2:0 needs them."""
    width, sep, height = size.partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise ValueError(f"size {size!r} is not WIDTHxHEIGHT")
    w, h = int(width), int(height)
    if not (16 <= w <= 4096 and 16 <= h <= 4096) or w % 2 or h % 2:
        raise ValueError(f"size {size!r} must have even dimensions between 16 and 4096")
    return w, h


_SORA_SECONDS = ("4", "8", "12")
_SORA_2_SIZES = ("720x1280", "1280x720")
_SORA_2_PRO_SIZES = (*_SORA_2_SIZES, "1024x1792", "1792x1024", "1080x1920", "1920x1080")


def default_models(provider: str = "local") -> list[ModelSpec]:
    """OpenAI's public models and dated snapshots, rendered by `provider`."""
    std = dict(sizes=_SORA_2_SIZES, seconds=_SORA_SECONDS, default_size="720x1280", default_seconds="4")
    pro = dict(std, sizes=_SORA_2_PRO_SIZES, quality="high")
    names_std = ("sora-2", "sora-2-2025-10-06", "sora-2-2025-12-08")
    names_pro = ("sora-2-pro", "sora-2-pro-2025-10-06")
    return [ModelSpec(name=n, provider=provider, **std) for n in names_std] + [  # type: ignore[arg-type]
        ModelSpec(name=n, provider=provider, **pro) for n in names_pro  # type: ignore[arg-type]
    ]


class Catalog:
    def __init__(self, models: Iterable[ModelSpec], default_model: str = DEFAULT_MODEL) -> None:
        self._models: Mapping[str, ModelSpec] = {m.name: m for m in models}
        if default_model not in self._models:
            raise ValueError(f"default model {default_model!r} is not in the catalog")
        self.default_model = default_model

    def get(self, name: str | None) -> ModelSpec:
        if name is None:
            return self._models[self.default_model]
        model = self._models.get(name)
        if model is None:
            raise InvalidRequest(
                f"Unknown model {name!r}. Available models: {', '.join(sorted(self._models))}.",
                param="model",
                code="model_not_found",
            )
        return model
