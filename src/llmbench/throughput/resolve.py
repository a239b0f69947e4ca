"""``--model``/``--api-url`` -> an Endpoint and its serving setup (one place to switch).

Uses the lead's ``llmbench.registry.resolve`` when it exists; until then a
small reading of models.yaml with the same rules: a known alias takes its
registry entry, anything else is used as the served model name at --api-url.
"""

from __future__ import annotations

from llmbench.endpoint import Endpoint

DEFAULT_API_URL = "http://localhost:8000/v1"


def _registry_entry(alias: str) -> tuple[dict, dict]:
    """(entry, defaults) from models.yaml; empty dicts when unknown or unreadable."""
    try:
        import yaml

        from llmbench.paths import default_models_file

        data = yaml.safe_load(default_models_file().read_text()) or {}
    except Exception:
        return {}, {}
    return (data.get("models") or {}).get(alias) or {}, data.get("defaults") or {}


def resolve_endpoint(alias: str, api_url: str | None = None, api_key: str | None = None) -> Endpoint:
    try:
        from llmbench.registry import resolve
    except ImportError:
        resolve = None
    if resolve is not None:
        return resolve(alias, api_url=api_url, api_key=api_key)
    entry, defaults = _registry_entry(alias)
    return Endpoint(
        alias=alias,
        name=entry.get("name") or alias,
        served_name=entry.get("served_name") or alias,
        api_url=(api_url or entry.get("api_url") or defaults.get("api_url") or DEFAULT_API_URL).rstrip("/"),
        api_key=api_key,
        extra_body=dict(entry.get("extra_body") or {}),
        reasoning=entry.get("reasoning") or "none",
    )


def demo_endpoint(api_url: str) -> Endpoint:
    return Endpoint(alias="demo", name="demo (built-in engine)", served_name="demo", api_url=api_url, demo=True)


def serving_info(alias: str, demo: bool = False) -> dict:
    """The results.json ``serving`` object for a model."""
    if demo:
        return {"framework": "llmbench-sim", "tp": None, "quant": None, "context": None, "gpu": None}
    entry, _ = _registry_entry(alias)
    return {"framework": entry.get("framework"), "tp": entry.get("tp"), "quant": entry.get("quant"),
            "context": entry.get("context"), "gpu": entry.get("gpu")}
