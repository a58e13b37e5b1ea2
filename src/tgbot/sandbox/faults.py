"""Injected faults, merged in by ``POST /sandbox/faults``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tgbot.sandbox.config import SandboxConfig


class FailNext(BaseModel):
    """Answer the next ``count`` calls (of ``method``, if given) with a server error."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=0)
    status: Literal[500, 502, 503] = 500
    method: str | None = None

    def matches(self, method: str) -> bool:
        return self.count > 0 and (self.method is None or self.method.lower() == method.lower())


class Faults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    blocked_chats: set[int] = Field(default_factory=set)
    unknown_chats: set[int] = Field(default_factory=set)
    rate_limit: bool = False
    global_rate: float = Field(default=30.0, gt=0)
    per_chat_rate: float = Field(default=1.0, gt=0)
    group_per_minute: int = Field(default=20, ge=1)
    fail_next: FailNext | None = None
    latency_ms: int = Field(default=0, ge=0, le=60_000)

    @classmethod
    def defaults(cls, config: SandboxConfig) -> Faults:
        return cls(
            rate_limit=config.sandbox_rate_limit,
            global_rate=config.sandbox_global_rate,
            per_chat_rate=config.sandbox_per_chat_rate,
        )

    def merged(self, patch: dict[str, Any]) -> Faults:
        """A copy with the fields named in ``patch`` replaced (validated)."""
        return Faults.model_validate({**self.model_dump(), **patch})

    def public(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        data["blocked_chats"] = sorted(self.blocked_chats)
        data["unknown_chats"] = sorted(self.unknown_chats)
        return data
