"""The model registry (models.yaml): aliases -> served name, endpoint, sampling.

A malformed file is one ``RegistryError`` naming the file, the entry and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from llmbench.endpoints.endpoint import Endpoint
from llmbench.paths import default_models_file

DEFAULT_API_URL = "http://localhost:8000/v1"
DEFAULT_MAX_TOKENS = 8192
REASONING_STYLES = ("none", "think-tags", "reasoning-field", "mistral-think")
DEMO_ALIAS = "demo"


class RegistryError(Exception):
    """models.yaml cannot be used; the message says where and why."""


@dataclass(frozen=True)
class ModelEntry:
    alias: str
    name: str
    served_name: str
    api_url: str
    temperature: float = 0.0
    max_tokens: int = DEFAULT_MAX_TOKENS
    reasoning: str = "none"
    extra_body: dict = field(default_factory=dict)
    quant: str | None = None
    tp: int | None = None
    framework: str | None = None
    context: int | None = None

    def serving(self) -> dict:
        return {"framework": self.framework, "tp": self.tp, "quant": self.quant, "context": self.context}


_ENTRY_FIELDS = {"name", "served_name", "api_url", "quant", "tp", "framework", "context",
                 "reasoning", "sampling", "extra_body"}


def _type_error(path: Path, where: str, fld: str, expected: str, value: Any) -> RegistryError:
    return RegistryError(f"{path}: {where}: field '{fld}' must be {expected}, got {value!r}")


def _entry(path: Path, alias: str, raw: Any, defaults: dict) -> ModelEntry:
    where = f"model {alias!r}"
    if not isinstance(raw, dict):
        raise RegistryError(f"{path}: {where}: must be a mapping of fields, got {type(raw).__name__}")
    unknown = sorted(set(raw) - _ENTRY_FIELDS)
    if unknown:
        raise RegistryError(f"{path}: {where}: unknown field {unknown[0]!r} (known: {', '.join(sorted(_ENTRY_FIELDS))})")
    served = raw.get("served_name")
    if not isinstance(served, str) or not served.strip():
        raise _type_error(path, where, "served_name", "a non-empty string", served)
    name = raw.get("name", alias)
    if not isinstance(name, str) or not name.strip():
        raise _type_error(path, where, "name", "a non-empty string", name)
    api_url = raw.get("api_url", defaults.get("api_url", DEFAULT_API_URL))
    if not isinstance(api_url, str) or not api_url.startswith(("http://", "https://")):
        raise _type_error(path, where, "api_url", "an http(s) URL", api_url)
    if not isinstance(raw.get("sampling") or {}, dict):
        raise _type_error(path, where, "sampling", "a mapping", raw.get("sampling"))
    sampling = {**(defaults.get("sampling") or {}), **(raw.get("sampling") or {})}
    temperature = sampling.get("temperature", 0.0)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 <= temperature <= 2:
        raise _type_error(path, where, "sampling.temperature", "a number from 0 to 2", temperature)
    max_tokens = sampling.get("max_tokens", DEFAULT_MAX_TOKENS)
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens <= 0:
        raise _type_error(path, where, "sampling.max_tokens", "a positive integer", max_tokens)
    reasoning = raw.get("reasoning", "none")
    if reasoning not in REASONING_STYLES:
        raise _type_error(path, where, "reasoning", f"one of {', '.join(REASONING_STYLES)}", reasoning)
    extra_body = raw.get("extra_body") or {}
    if not isinstance(extra_body, dict):
        raise _type_error(path, where, "extra_body", "a mapping", extra_body)
    for fld in ("tp", "context"):
        value = raw.get(fld)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise _type_error(path, where, fld, "a positive integer", value)
    for fld in ("quant", "framework"):
        value = raw.get(fld)
        if value is not None and not isinstance(value, str):
            raise _type_error(path, where, fld, "a string", value)
    return ModelEntry(alias=alias, name=name, served_name=served, api_url=api_url.rstrip("/"),
                      temperature=float(temperature), max_tokens=max_tokens, reasoning=reasoning,
                      extra_body=extra_body, quant=raw.get("quant"), tp=raw.get("tp"),
                      framework=raw.get("framework"), context=raw.get("context"))


def load_registry(path: str | Path | None = None) -> dict[str, ModelEntry]:
    """Parse and validate models.yaml; raise RegistryError with one clear message."""
    path = Path(path) if path else default_models_file()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"{path}: models file not found") from None
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read models file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise RegistryError(f"{path}: not UTF-8 text (byte {exc.start}); save the models file as UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RegistryError(f"{path}: invalid YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("models", {}), dict):
        raise RegistryError(f"{path}: expected a mapping with a 'models:' mapping of aliases")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise RegistryError(f"{path}: 'defaults' must be a mapping")
    if not isinstance(defaults.get("sampling") or {}, dict):
        raise _type_error(path, "defaults", "sampling", "a mapping", defaults.get("sampling"))
    entries = {}
    for alias, raw in (data.get("models") or {}).items():
        if str(alias) == DEMO_ALIAS:
            raise RegistryError(f"{path}: model {alias!r}: the alias 'demo' is reserved for the built-in server")
        entries[str(alias)] = _entry(path, str(alias), raw, defaults)
    return entries


def resolve(model: str, *, api_url: str | None = None, api_key: str | None = None,
            models_file: str | Path | None = None, max_tokens: int | None = None,
            temperature: float | None = None, request_timeout: float = 600.0) -> tuple[Endpoint, dict]:
    """Turn ``--model`` and friends into an Endpoint and the serving metadata.

    A name that is not an alias is used as the served model name at ``api_url``.
    The demo alias gets an Endpoint without a URL; the caller starts the built-in server.
    """
    registry = load_registry(models_file)
    if model == DEMO_ALIAS:
        endpoint = Endpoint(alias=model, name="demo", served_name=DEMO_ALIAS,
                            api_url=(api_url or "").rstrip("/"), api_key=api_key,
                            temperature=0.0 if temperature is None else temperature,
                            max_tokens=max_tokens or DEFAULT_MAX_TOKENS,
                            request_timeout=request_timeout, demo=True)
        return endpoint, {"framework": "llmbench-sim", "tp": None, "quant": None, "context": None}
    entry = registry.get(model)
    if entry is None:
        endpoint = Endpoint(alias=model, name=model, served_name=model,
                            api_url=(api_url or DEFAULT_API_URL).rstrip("/"), api_key=api_key,
                            temperature=0.0 if temperature is None else temperature,
                            max_tokens=max_tokens or DEFAULT_MAX_TOKENS, request_timeout=request_timeout)
        return endpoint, {"framework": None, "tp": None, "quant": None, "context": None}
    endpoint = Endpoint(alias=model, name=entry.name, served_name=entry.served_name,
                        api_url=(api_url or entry.api_url).rstrip("/"), api_key=api_key,
                        temperature=entry.temperature if temperature is None else temperature,
                        max_tokens=max_tokens or entry.max_tokens, extra_body=dict(entry.extra_body),
                        reasoning=entry.reasoning, request_timeout=request_timeout)
    return endpoint, entry.serving()
