"""Serving throughput: ``-n C`` runs C closed-loop streaming clients (none: one).

    pytest tests/throughput --model qwen3-coder -n 16

Each item is one client; the controller aggregates every client's records and
prints aggregate tok/s, TTFT/TPOT/ITL/E2E percentiles, then writes
reports/<run>/{throughput.json,records.jsonl,benchmark.json}.
"""


def test_throughput(llmbench_throughput_client):
    result = llmbench_throughput_client.run()
    measured = [r for r in result["records"] if not r["warmup"]]
    failed = [r for r in measured if r["error"]]
    # Errors are recorded and summarised; the client only fails when nothing got through.
    assert len(failed) < len(measured) or not measured, (
        f"all {len(measured)} requests of client {result['client']} failed; first: {failed[0]['error']}")
