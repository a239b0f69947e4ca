"""Launch recipes: serve/*.yaml, one per configuration, rendered as exact shell commands.

A recipe names the models.yaml aliases it serves, so the next step after
launching is `pytest --model ALIAS --api-url URL`. Schema (all strings unless noted):

    title: one line            description: why / source
    source: where the command comes from (the seed's section, or "constructed")
    models: [alias, ...]       config: configs/NAME.json (for `serve plan`)
    plan: {gpus: int, gpu_mem_gib: num, quant: str, group_size: int, kv_cache_dtype: str}
    patches: [patch name, ...] (vLLM patches the recipe needs; `llmbench patches apply`)
    notes: [str, ...]
    launches:                  one entry per server process
      - alias: models.yaml alias served by this process
        framework: vllm | sglang
        env: {VAR: value}
        model: repository or path
        args: [ "flags on one line", ... ]   (one output line each, as written)
        port: int
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from llmbench.paths import serve_dir

FRAMEWORKS = {
    "vllm": "vllm serve {model}",
    "sglang": "python -m sglang.launch_server --model-path {model}",
}


class RecipeError(Exception):
    pass


@dataclass
class Launch:
    alias: str
    framework: str
    model: str
    args: list[str]
    port: int
    env: dict[str, str] = field(default_factory=dict)

    def command(self) -> str:
        """The exact shell command, one flag group per continuation line."""
        env = " ".join(f"{k}={shlex.quote(str(v))}" for k, v in self.env.items())
        head = FRAMEWORKS[self.framework].format(model=shlex.quote(self.model))
        lines = [f"{env} {head}".strip()] + [f"  {line}" for line in self.args]
        return " \\\n".join(lines)

    @property
    def api_url(self) -> str:
        return f"http://localhost:{self.port}/v1"


@dataclass
class Recipe:
    name: str
    title: str
    description: str
    source: str
    models: list[str]
    launches: list[Launch]
    config: str | None = None
    plan: dict = field(default_factory=dict)
    patches: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    path: Path | None = None

    def config_path(self) -> Path | None:
        if not self.config:
            return None
        base = self.path.parent if self.path else serve_dir()
        return (base / self.config).resolve()


def _require(data: dict, key: str, where: str, kind: type = str):
    value = data.get(key)
    if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
        raise RecipeError(f"{where}: '{key}' must be a non-empty {kind.__name__}")
    return value


def parse(data: object, name: str, path: Path | None = None) -> Recipe:
    where = str(path or name)
    if not isinstance(data, dict):
        raise RecipeError(f"{where}: a recipe is a YAML mapping")
    launches = []
    for i, raw in enumerate(_require(data, "launches", where, list)):
        at = f"{where}: launches[{i}]"
        if not isinstance(raw, dict):
            raise RecipeError(f"{at} must be a mapping")
        framework = _require(raw, "framework", at)
        if framework not in FRAMEWORKS:
            raise RecipeError(f"{at}: framework must be one of {sorted(FRAMEWORKS)}")
        args = raw.get("args") or []
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise RecipeError(f"{at}: 'args' must be a list of strings (one output line each)")
        port = raw.get("port")
        if not isinstance(port, int):
            raise RecipeError(f"{at}: 'port' must be an integer")
        env = raw.get("env") or {}
        if not isinstance(env, dict):
            raise RecipeError(f"{at}: 'env' must be a mapping")
        launches.append(Launch(_require(raw, "alias", at), framework, _require(raw, "model", at),
                               args, port, {str(k): str(v) for k, v in env.items()}))
    models = _require(data, "models", where, list)
    missing = sorted({launch.alias for launch in launches} - set(models))
    if missing:
        raise RecipeError(f"{where}: launches serve {missing}, not listed in 'models'")
    return Recipe(
        name=name,
        title=_require(data, "title", where),
        description=str(data.get("description") or ""),
        source=_require(data, "source", where),
        models=[str(m) for m in models],
        launches=launches,
        config=data.get("config"),
        plan=dict(data.get("plan") or {}),
        patches=[str(p) for p in data.get("patches") or []],
        notes=[str(n) for n in data.get("notes") or []],
        path=path,
    )


def load(path: Path) -> Recipe:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RecipeError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    return parse(data, path.stem, path)


def all_recipes(directory: Path | None = None) -> list[Recipe]:
    directory = directory or serve_dir()
    return [load(p) for p in sorted(directory.glob("*.yaml"))]


def find(name: str, directory: Path | None = None) -> Recipe:
    directory = directory or serve_dir()
    path = directory / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(p.stem for p in sorted(directory.glob("*.yaml")))
        raise RecipeError(f"no recipe {name!r} (known: {known})")
    return load(path)
