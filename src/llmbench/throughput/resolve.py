"""``--model``/``--api-url`` -> an Endpoint and its serving setup, via the model registry.

The one place the sweep resolves a model, with the quality suite's rules: a
known alias takes its models.yaml entry, any other name is used as the served
model at --api-url, ``demo`` is the built-in server.
"""

from __future__ import annotations

import dataclasses

from llmbench.endpoints.endpoint import Endpoint
from llmbench.endpoints.gpu import describe_gpus
from llmbench.endpoints.registry import RegistryError, resolve


class ResolveError(Exception):
    pass


def resolve_endpoint(alias: str, api_url: str | None = None, api_key: str | None = None,
                     models_file: str | None = None) -> tuple[Endpoint, dict]:
    """(endpoint, serving) with serving shaped like results.json's (framework, tp, quant, context, gpu)."""
    try:
        endpoint, serving = resolve(alias, api_url=api_url, api_key=api_key, models_file=models_file)
    except RegistryError as exc:
        raise ResolveError(str(exc)) from None
    serving = {**serving, "gpu": None if endpoint.demo else describe_gpus()}
    return endpoint, serving


def with_url(endpoint: Endpoint, api_url: str) -> Endpoint:
    return dataclasses.replace(endpoint, api_url=api_url)
