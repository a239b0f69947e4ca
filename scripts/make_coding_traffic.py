#!/usr/bin/env python
"""Write src/llmbench/throughput/data/coding_traffic.jsonl (``--prompts coding``) from the project's own material.

Deterministic: the same fixtures and task prompts give the same file; a self-test
checks the shipped file is what this writes. Run after changing a fixture or a prompt.
"""

import json

from llmbench.throughput.workload import CODING_FILE, coding_traffic


def main() -> int:
    items = coding_traffic()
    CODING_FILE.parent.mkdir(parents=True, exist_ok=True)
    CODING_FILE.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items), encoding="utf-8")
    chars = [len(i["prompt"]) for i in items]
    print(f"wrote {CODING_FILE}: {len(items)} requests, prompts {min(chars)}-{max(chars)} characters, "
          f"{sum(i['max_tokens'] for i in items) / len(items):.0f} output tokens on average")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
