"""What each request of a throughput run asks: prompts and lengths, fixed, drawn, or replayed.

Three sources, one plan of (prompt, max_tokens) items that every client walks
through (client ``k`` of ``n`` takes items k, k+n, k+2n, ... so clients send
different requests):

* the fixed ``--throughput-prompt`` and ``--max-tokens`` (the default);
* ``--input-tokens`` / ``--output-tokens``: a fixed length or a seeded normal
  distribution (``mean=512,stdev=128,min=64,max=2048``), with an optional shared
  prefix of ``--prefix-tokens`` tokens at the start of every prompt. Prompt text
  is cut from the project's own code and task prompts to the length the server's
  tokenizer needs: two probe requests read ``usage.prompt_tokens`` for two text
  lengths, which gives tokens per character and the chat template's overhead (no
  tokenizer download). The achieved lengths are reported from each request's usage;
* ``--prompts FILE.jsonl`` (``{"prompt": ...}`` or ``{"messages": [...]}``, with an
  optional ``"max_tokens"``, one per line), or ``--prompts coding``: the shipped
  set of coding requests cut from this project's fixtures and quality prompts.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from llmbench.throughput import metrics

CODING = "coding"
CODING_FILE = Path(__file__).resolve().parent / "data" / "coding_traffic.jsonl"
PLAN_SIZE = 256
PROBE_CHARS = (400, 4000)


class WorkloadError(ValueError):
    """A one-line reason the workload cannot be built."""


@dataclass(frozen=True)
class Lengths:
    """A token length: fixed (stdev 0) or normal(mean, stdev) clipped to [min, max]."""

    mean: int
    stdev: float = 0.0
    min: int = 1
    max: int | None = None

    def draw(self, rng: random.Random) -> int:
        value = self.mean if not self.stdev else round(rng.gauss(self.mean, self.stdev))
        value = max(self.min, value)
        return min(value, self.max) if self.max is not None else value


def parse_lengths(text: str) -> Lengths:
    """``"512"`` or ``"mean=512,stdev=128,min=64,max=2048"``."""
    text = text.strip()
    if re.fullmatch(r"\d+", text):
        value = int(text)
        if value < 1:
            raise WorkloadError(f"a length must be at least 1 token, got {text}")
        return Lengths(value)
    fields: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        key, sep, number = part.partition("=")
        if not sep or key.strip() not in ("mean", "stdev", "min", "max"):
            raise WorkloadError(f"lengths are N or mean=N,stdev=N,min=N,max=N; got {part!r}")
        try:
            fields[key.strip()] = float(number)
        except ValueError:
            raise WorkloadError(f"{key.strip()} wants a number of tokens, got {number!r}") from None
    if "mean" not in fields:
        raise WorkloadError(f"a length distribution needs mean=N, got {text!r}")
    lo, hi = int(fields.get("min", 1)), (int(fields["max"]) if "max" in fields else None)
    if fields["mean"] < 1 or fields.get("stdev", 0) < 0 or lo < 1 or (hi is not None and hi < lo):
        raise WorkloadError(f"lengths need mean >= 1, stdev >= 0, 1 <= min <= max; got {text!r}")
    return Lengths(int(round(fields["mean"])), fields.get("stdev", 0.0), lo, hi)


@dataclass
class WorkloadSpec:
    """The workload options (JSON-able, so it travels inside LoadSpec to every client)."""

    prompts: str | None = None          # a JSONL path, or "coding"
    input_tokens: str | None = None     # "512" or "mean=...,stdev=...,min=...,max=..."
    output_tokens: str | None = None
    prefix_tokens: int = 0
    seed: int = 0

    @property
    def active(self) -> bool:
        return bool(self.prompts or self.input_tokens or self.output_tokens or self.prefix_tokens)

    def as_dict(self) -> dict:
        return asdict(self)

    def check(self) -> None:
        """Refuse bad options before anything is sent."""
        if self.prompts and self.input_tokens:
            raise WorkloadError("--prompts and --input-tokens do not mix: the file gives the prompts")
        if self.prefix_tokens < 0:
            raise WorkloadError("--prefix-tokens must be 0 or more")
        for text in (self.input_tokens, self.output_tokens):
            if text:
                parse_lengths(text)
        if self.prompts:
            read_prompts(self.prompts)


@dataclass
class Plan:
    items: list[tuple]                  # (prompt text or messages, max_tokens)
    info: dict

    def item(self, client: int, seq: int, clients: int) -> tuple:
        index = (abs(seq) * max(clients, 1) + client) % len(self.items)
        return self.items[index]


@lru_cache(maxsize=8)
def _read_jsonl(path: str) -> tuple:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise WorkloadError(f"cannot read prompts file {path}: {exc.strerror}") from None
    items = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            raise WorkloadError(f"{path}:{n}: not a JSON object") from None
        if not isinstance(obj, dict):
            raise WorkloadError(f"{path}:{n}: not a JSON object")
        prompt = obj.get("messages") if "messages" in obj else obj.get("prompt")
        if isinstance(prompt, list):
            if not prompt or not all(isinstance(m, dict) and "role" in m and "content" in m for m in prompt):
                raise WorkloadError(f"{path}:{n}: messages must be a list of {{role, content}} objects")
        elif not isinstance(prompt, str) or not prompt:
            raise WorkloadError(f"{path}:{n}: needs a non-empty \"prompt\" string or a \"messages\" list")
        max_tokens = obj.get("max_tokens")
        if max_tokens is not None and (not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1):
            raise WorkloadError(f"{path}:{n}: max_tokens must be a whole number of at least 1")
        items.append((prompt, max_tokens))
    if not items:
        raise WorkloadError(f"{path}: no prompts in it")
    return tuple(items)


def read_prompts(source: str) -> tuple:
    """``[(prompt or messages, max_tokens or None), ...]`` from a JSONL file or ``coding``."""
    return _read_jsonl(str(CODING_FILE) if source == CODING else source)


@lru_cache(maxsize=1)
def corpus() -> str:
    """The project's own text to cut prompts from: every quality task's prompt (fixtures included)."""
    from llmbench.tasks import all_tasks

    return "\n\n".join(task.prompt() for task in all_tasks())


def _cut(text: str, start: int, chars: int) -> str:
    if chars <= 0:
        return ""
    reps = chars // len(text) + 2
    return (text * reps)[start:start + chars]


def probe_prompt_tokens(api_url: str, model: str, api_key: str | None, chars: int, extra_body: dict) -> int:
    """The server's prompt_tokens for ``chars`` characters of the corpus."""
    from llmbench.throughput.client import RequestRecord, StreamClient

    client = StreamClient(api_url, api_key, timeout=120.0)
    try:
        body = client.body(model, _cut(corpus(), 0, chars), 1, extra_body)
        record = client.stream(RequestRecord(0, 0, True), body)
    finally:
        client.close()
    if record.prompt_tokens is None:
        raise WorkloadError("cannot calibrate prompt lengths: the server reports no usage.prompt_tokens"
                            + (f" ({record.error})" if record.error else ""))
    return record.prompt_tokens


def calibrate(api_url: str, model: str, api_key: str | None = None, extra_body: dict | None = None) -> dict:
    """Tokens per character and the per-request overhead, from two probes of different length."""
    (c1, c2), extra = PROBE_CHARS, dict(extra_body or {})
    t1 = probe_prompt_tokens(api_url, model, api_key, c1, extra)
    t2 = probe_prompt_tokens(api_url, model, api_key, c2, extra)
    per_char = (t2 - t1) / (c2 - c1)
    if per_char <= 0:
        raise WorkloadError(f"cannot calibrate prompt lengths: {c1} and {c2} characters gave {t1} and {t2} tokens")
    return {"tokens_per_char": per_char, "overhead_tokens": max(0.0, t1 - per_char * c1),
            "probes": [[c1, t1], [c2, t2]]}


def build_plan(ws: WorkloadSpec, default_prompt, default_max_tokens: int, calibration: dict | None = None) -> Plan:
    """The items every client walks through; ``calibration`` is needed for token-length prompts."""
    rng = random.Random(f"workload:{ws.seed}")
    out_lengths = parse_lengths(ws.output_tokens) if ws.output_tokens else None
    info: dict = {"source": "fixed", **ws.as_dict()}
    if ws.prompts:
        items = []
        for prompt, max_tokens in read_prompts(ws.prompts):
            mt = out_lengths.draw(rng) if out_lengths else (max_tokens or default_max_tokens)
            items.append((prompt, mt))
        info["source"] = "coding" if ws.prompts == CODING else "file"
        return Plan(items, info)
    if not ws.input_tokens and not ws.prefix_tokens:
        count = PLAN_SIZE if out_lengths else 1
        items = [(default_prompt, out_lengths.draw(rng) if out_lengths else default_max_tokens) for _ in range(count)]
        return Plan(items, info)
    if calibration is None:
        raise WorkloadError("token-length prompts need a calibration against the server")
    per_char, overhead = calibration["tokens_per_char"], calibration["overhead_tokens"]
    text = corpus()
    prefix = _cut(text, 0, round(ws.prefix_tokens / per_char)) if ws.prefix_tokens else ""
    in_lengths = parse_lengths(ws.input_tokens) if ws.input_tokens else None
    items, targets = [], []
    for _ in range(PLAN_SIZE):
        target = in_lengths.draw(rng) if in_lengths else ws.prefix_tokens + 1
        body_tokens = max(1.0, target - overhead - ws.prefix_tokens)
        body = _cut(text, rng.randrange(len(text)), max(1, round(body_tokens / per_char)))
        items.append((prefix + body, out_lengths.draw(rng) if out_lengths else default_max_tokens))
        targets.append(target)
    info.update(source="lengths", calibration=calibration, target_input_tokens_mean=sum(targets) / len(targets))
    return Plan(items, info)


CODING_CUTS = (500, 2000, 6000)          # characters of each source per request
CODING_OUTPUTS = (64, 128, 256, 256, 512, 512, 1024)


def coding_traffic(seed: int = 2026) -> list[dict]:
    """The shipped "realistic coding traffic": the quality prompts and the fixture files cut to
    several lengths (task prompts from their start, files from a seeded place), each asking
    for a seeded number of output tokens. ``scripts/make_coding_traffic.py`` writes it."""
    from llmbench.paths import buggy_code_dir
    from llmbench.tasks import all_tasks

    rng = random.Random(seed)
    items = []
    for task in all_tasks():
        text = task.prompt()
        for chars in CODING_CUTS:
            items.append({"prompt": text[:chars], "max_tokens": rng.choice(CODING_OUTPUTS)})
    for path in sorted(buggy_code_dir().iterdir()):
        if not path.is_file():
            continue
        code = path.read_text(encoding="utf-8")
        for chars in CODING_CUTS:
            start = rng.randrange(max(1, len(code) - chars)) if len(code) > chars else 0
            excerpt = code[start:start + chars]
            items.append({"prompt": f"Find the bugs in this excerpt of `{path.name}` and explain each fix:\n\n"
                                    f"```\n{excerpt}\n```", "max_tokens": rng.choice(CODING_OUTPUTS)})
    return items


def achieved(client_results: list[dict]) -> dict:
    """Input and output tokens per measured successful request, as the server counted them."""
    ok = [d for res in client_results for d in res.get("records") or () if not d.get("warmup") and not d.get("error")]
    return {"input_tokens": metrics.summarize(d["prompt_tokens"] for d in ok if d.get("prompt_tokens") is not None),
            "output_tokens": metrics.summarize(d.get("output_tokens") or 0 for d in ok)}


def lengths_line(level: dict) -> str | None:
    """What the requests really were, by the server's count (only for a varied workload)."""
    info, lengths = level.get("workload") or {}, level.get("lengths") or {}
    if not info or info.get("source") == "fixed" and not info.get("output_tokens"):
        return None
    i, o = lengths.get("input_tokens") or {}, lengths.get("output_tokens") or {}

    def show(s: dict) -> str:
        return "-" if not s.get("n") else f"mean {s['mean']:.0f}, p50 {s['p50']:.0f}"

    source = {"coding": "the shipped coding requests", "file": f"prompts from {info.get('prompts')}",
              "lengths": f"drawn lengths {info.get('input_tokens') or ''}".rstrip(), "fixed": "the fixed prompt"}
    line = f"workload: {source.get(str(info.get('source')), info.get('source'))}"
    if info.get("prefix_tokens"):
        line += f", shared prefix of {info['prefix_tokens']} tokens"
    line += f"; input tokens {show(i)}"
    if info.get("target_input_tokens_mean"):
        line += f" (target mean {info['target_input_tokens_mean']:.0f})"
    return line + f"; output tokens {show(o)}"
