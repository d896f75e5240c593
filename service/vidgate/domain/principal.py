"""Who is calling: the API key an RPC was authenticated with."""

from __future__ import annotations

from dataclasses import dataclass

from vidgate.domain.errors import PermissionDenied


@dataclass(frozen=True)
class Principal:
    key_id: str
    # None means every model.
    allowed_models: frozenset[str] | None = None

    @property
    def owner(self) -> str:
        """Videos belong to the key that created them."""
        return self.key_id

    def require_model(self, model: str) -> None:
        if self.allowed_models is not None and model not in self.allowed_models:
            raise PermissionDenied(f"This API key may not use model {model!r}.", param="model")
