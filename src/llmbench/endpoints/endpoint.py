"""The resolved model endpoint a run talks to (no pytest import)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Endpoint:
    alias: str                 # --model as given ("qwen3-coder", "demo", or a served name)
    name: str                  # display name for reports
    served_name: str           # the `model` field sent to the server
    api_url: str               # base URL ending in /v1
    api_key: str | None = field(default=None, repr=False)  # never printed or saved
    temperature: float = 0.0
    max_tokens: int = 8192
    extra_body: dict = field(default_factory=dict)
    reasoning: str = "none"
    request_timeout: float = 600.0
    demo: bool = False         # the built-in server answers

    def public_dict(self) -> dict:
        """What may be saved or shown: everything except the key."""
        return {
            "alias": self.alias,
            "name": self.name,
            "served_name": self.served_name,
            "api_url": self.api_url,
            "reasoning": self.reasoning,
        }
