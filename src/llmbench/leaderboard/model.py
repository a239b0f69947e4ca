"""The records a leaderboard is built from (no I/O here)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Setup:
    """What makes two runs comparable: the model and how it was served.

    A field is ``None`` when the run file did not say; ``None`` matches anything when a
    quality run and a sweep are joined (older sweeps carry only the model alias).
    """

    model: str
    quant: str | None = None
    tp: int | None = None
    framework: str | None = None
    gpu: str | None = None

    def compatible(self, other: "Setup") -> bool:
        """Same serving setup as far as both files say (the model is matched by the caller)."""
        pairs = [(self.quant, other.quant), (self.tp, other.tp),
                 (self.framework, other.framework), (self.gpu, other.gpu)]
        return all(a is None or b is None or _norm(a) == _norm(b) for a, b in pairs)

    def agreement(self, other: "Setup") -> int:
        """How many optional fields are known on both sides and equal (join preference)."""
        pairs = [(self.quant, other.quant), (self.tp, other.tp),
                 (self.framework, other.framework), (self.gpu, other.gpu)]
        return sum(1 for a, b in pairs if a is not None and b is not None and _norm(a) == _norm(b))


def _norm(value: object) -> str:
    return " ".join(str(value).split()).casefold()


@dataclass
class TestScore:
    """One quality test in one row: mean points over samples, with an interval when n > 1."""

    label: str
    score: float
    max: int
    low: float | None = None
    high: float | None = None


@dataclass
class Quality:
    score: float                    # mean number of checks passed
    max: int
    percent: float
    n_samples: int = 1
    low: float | None = None        # 95% interval of the score, when n_samples > 1
    high: float | None = None
    tests: dict[str, TestScore] = field(default_factory=dict)
    fixes_verified: tuple[int, int] | None = None   # (fix runs passed, fix runs), None: no runs recorded


@dataclass
class Throughput:
    single_tok_s: float | None = None
    peak_tok_s: float | None = None
    peak_concurrency: int | None = None
    levels: dict[int, float] = field(default_factory=dict)   # concurrency -> aggregate tok/s
    slo: str | None = None                  # the SLO the sweep judged, as text
    slo_max: str | None = None              # the highest load meeting it ("C=16", "8 req/s"), None: no level did
    slo_goodput_tok_s: float | None = None  # goodput at that load


@dataclass
class RunInfo:
    """Where a row's numbers came from."""

    kind: str                       # "quality" | "sweep" | "published"
    path: str                       # file the run was read from
    run_id: str
    started_at: str | None = None
    status: str | None = None       # complete | partial | failed | interrupted | running
    demo: bool = False


@dataclass
class Row:
    """One line of the leaderboard: a model and serving setup, with what was measured."""

    setup: Setup
    alias: str | None = None
    context: int | None = None      # tokens
    published: bool = False
    published_rank: int | None = None
    short_label: str | None = None  # column label in the scaling table
    detailed_label: str | None = None
    params_b: float | None = None
    reasoning: str | None = None
    quality: Quality | None = None
    throughput: Throughput | None = None
    sources: list[RunInfo] = field(default_factory=list)
    partial: bool = False           # its quality run did not complete, or covered fewer checks than the fullest row

    @property
    def name(self) -> str:
        return self.setup.model

    @property
    def percent(self) -> float | None:
        return self.quality.percent if self.quality else None

    @property
    def peak(self) -> float | None:
        return self.throughput.peak_tok_s if self.throughput else None

    @property
    def single(self) -> float | None:
        return self.throughput.single_tok_s if self.throughput else None

    @property
    def tags(self) -> list[str]:
        """Short markers shown beside the model name."""
        tags = ["published"] if self.published else []
        unfinished = [s.status for s in self.sources if s.status and s.status != "complete"]
        if self.partial and self.quality and not unfinished:
            tags.append(f"partial: {self.quality.max} checks")
        if any(s.demo for s in self.sources):
            tags.append("demo")
        for s in self.sources:
            if s.status and s.status != "complete" and s.status not in tags:
                tags.append(s.status)
        return tags
