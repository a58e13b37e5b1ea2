"""Import aiogram with its pydantic models built on first use instead of all at import.

``import aiogram.types`` rebuilds the schema of every one of its ~440 models in turn, passing
the namespace that resolves their forward references: about 2.5 s of CPU on a small machine,
most of the bot's start. A running bot uses a few dozen of them. ``import_aiogram()`` runs
that import with each rebuild replaced by "remember the namespace" (on the model, where
pydantic looks when it builds a model on first use), gives the API method models the same
namespace, then builds ``Update``, which every update is validated with.

If a check build fails (a pydantic or aiogram release that works differently), every model
is rebuilt as aiogram would have, and the bot starts as fast as it used to.
Must run before anything imports aiogram; the CLI calls it first (``tgbot.cli``).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import pydantic
import structlog

log = structlog.get_logger(__name__)


def _with_namespace(model: type[pydantic.BaseModel], namespace: Mapping[str, Any]) -> None:
    model.__pydantic_parent_namespace__ = {
        **(model.__pydantic_parent_namespace__ or {}),
        **namespace,
    }


def _models(module: Any) -> list[type[pydantic.BaseModel]]:
    found = (getattr(module, name) for name in module.__all__)
    return [m for m in found if isinstance(m, type) and issubclass(m, pydantic.BaseModel)]


def import_aiogram() -> None:
    if "aiogram.types" in sys.modules:
        return  # imported already, every model built
    rebuild = pydantic.BaseModel.__dict__["model_rebuild"]
    namespaces: list[Mapping[str, Any]] = []

    def remember_namespace(
        cls: type[pydantic.BaseModel],
        *,
        _types_namespace: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> bool | None:
        if _types_namespace is None:
            return rebuild.__func__(cls, **kwargs)  # type: ignore[no-any-return]
        _with_namespace(cls, _types_namespace)
        namespaces.append(_types_namespace)
        return None

    pydantic.BaseModel.model_rebuild = classmethod(remember_namespace)  # type: ignore[method-assign,assignment,arg-type]
    try:
        import aiogram.types
    finally:
        pydantic.BaseModel.model_rebuild = rebuild  # type: ignore[method-assign]
    import aiogram.methods

    try:
        if not namespaces:
            return  # this aiogram builds its models some other way
        for method in _models(aiogram.methods):
            _with_namespace(method, namespaces[0])
        aiogram.types.Update.model_rebuild(raise_errors=True)
        aiogram.methods.SendMessage.model_rebuild(raise_errors=True)
    except pydantic.PydanticUserError as exc:
        log.warning("aiogram.lazy_models_failed", error=str(exc).splitlines()[0])
        for model in _models(aiogram.types):
            model.model_rebuild(force=True, _types_namespace=namespaces[0])
