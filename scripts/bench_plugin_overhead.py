"""What llmbench costs a pytest run that does not use it: prints the figures.

Runs a one-test project in a scratch folder N times with the plugin loaded
(as its entry point does) and with ``-p no:llmbench``, alternating so that
load from other processes hits both alike, and prints the median wall time
of each, their difference, and what importing the entry module costs
(``-X importtime``, the part that does not drown in noise). Target: under 50 ms.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=cwd,
                   check=True, capture_output=True)
    return time.perf_counter() - start


def _import_ms(cwd: Path) -> float:
    """Import time of every llmbench module a plain pytest run loads (their own times, summed)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                          cwd=cwd, capture_output=True, text=True, check=True)
    total = 0
    for line in done.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2].startswith("llmbench") and parts[0].isdigit():
            total += int(parts[0])
    return total / 1000


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        (project / "test_plain.py").write_text("def test_one():\n    assert True\n")
        _run([], project)  # warm the file cache
        without_runs, with_runs = [], []
        for _ in range(n):
            without_runs.append(_run(["-p", "no:llmbench"], project))
            with_runs.append(_run([], project))
        without, with_plugin = statistics.median(without_runs), statistics.median(with_runs)
        imports = statistics.median(_import_ms(project) for _ in range(5))
    print(f"plain pytest run, median of {n}: without llmbench {without * 1000:.0f} ms, "
          f"with llmbench installed {with_plugin * 1000:.0f} ms, "
          f"difference {(with_plugin - without) * 1000:+.0f} ms (target: < 50 ms)")
    print(f"importing llmbench's modules in that run (median of 5): {imports:.1f} ms")


if __name__ == "__main__":
    main()
