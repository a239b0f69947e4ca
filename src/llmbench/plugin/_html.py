"""pytest-html additions: check columns, the answer under each check, a score summary.

Registered only on the controller and only when pytest-html is active. Every
piece of model output is escaped here: the report is a web page and an answer
may contain ``<script>``.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

import pytest

from llmbench.plugin.session import USER_PROPERTY
from llmbench.redact import redact
from llmbench.runs.excerpt import head
from llmbench.runs.summary import check_rows, summary_rows
from llmbench.tasks import get_task


def _llmbench_property(report) -> dict | None:
    for name, value in getattr(report, "user_properties", ()):
        if name == USER_PROPERTY:
            return value
    return None


def _pre(title: str, text: str, full_link: str | None = None) -> str:
    shown, hidden = head(text)
    more = ""
    if hidden:
        target = f' <a href="{escape(full_link)}">the full answer</a>' if full_link else ""
        more = f"<p><i>… {hidden:,} more characters not shown here; see{target or ' results.json'}.</i></p>"
    return (f'<div class="llmbench-extra"><h4>{escape(title)}</h4>'
            f'<pre style="white-space:pre-wrap">{escape(shown)}</pre>{more}</div>')


def _link_from_report(config, target) -> str | None:
    """``target`` relative to the folder report.html is written to."""
    html = getattr(config.option, "htmlpath", None)
    if not html:
        return None
    return os.path.relpath(target, os.path.dirname(os.path.abspath(html)))


def fix_run_text(run: dict | None) -> str:
    """"failed (probe): the failing assertion" — plain text, escaped by the caller."""
    if not run:
        return ""
    head = run.get("status", "") + (f" ({run['probe']})" if run.get("probe") else "")
    return f"{head}: {run['detail']}" if run.get("detail") else head


class HtmlHooks:
    def __init__(self, session) -> None:
        self.session = session

    def pytest_html_report_title(self, report) -> None:
        e = self.session.endpoint
        report.title = f"llmbench: {e.name}" + (" (built-in demo server)" if e.demo else "")

    def pytest_html_results_table_header(self, cells: list) -> None:
        cells.insert(2, '<th class="sortable" data-column-type="check">Check</th>')
        cells.insert(3, "<th>Difficulty</th>")
        cells.insert(4, "<th>Verdict</th>")
        cells.insert(5, "<th>Evidence</th>")
        cells.insert(6, "<th>Fix run</th>")

    def pytest_html_results_table_row(self, report, cells: list) -> None:
        # pytest-html 4.2 puts the test id in unescaped (pytest-dev/pytest-html#1024).
        test_id = report.nodeid if report.when == "call" else f"{report.nodeid}::{report.when}"
        cells[1] = f'<td class="col-testId">{escape(test_id)}</td>'
        prop = _llmbench_property(report)
        if prop is None:
            check = difficulty = verdict = evidence = fix_run = ""
        else:
            check = prop["check"]
            difficulty = get_task(prop["task"]).difficulty
            passes = sum(v["passed"] for v in prop["per_sample"])
            n = len(prop["per_sample"])
            verdict = ("PASS" if prop["passed"] else "FAIL") + (f" ({passes}/{n})" if n > 1 else "")
            evidence = prop["per_sample"][0]["evidence"] if prop["per_sample"] else ""
            fix_run = fix_run_text(prop["per_sample"][0].get("execution") if prop["per_sample"] else None)
        cells.insert(2, f'<td class="col-check">{escape(check)}</td>')
        cells.insert(3, f"<td>{escape(difficulty)}</td>")
        cells.insert(4, f"<td>{escape(verdict)}</td>")
        cells.insert(5, f'<td style="max-width:40em">{escape(evidence)}</td>')
        cells.insert(6, f'<td class="col-fixrun" style="max-width:30em">{escape(fix_run)}</td>')

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report) -> None:
        """Attach the graded answer (and reasoning) to each check's row."""
        prop = _llmbench_property(report)
        if prop is None or report.when != "call" or self.session.store is None:
            return
        from pytest_html import extras

        blocks = []
        for index in range(self.session.samples):
            sample = self.session.store.saved(prop["task"], index)
            if sample is None:
                continue
            label = f"sample {index + 1}: " if self.session.samples > 1 else ""
            if sample.result.error:
                blocks.append(_pre(f"{label}request error", sample.result.error))
            link = _link_from_report(self.session.config, self.session.store.path(prop["task"], index))
            blocks.append(_pre(f"{label}final answer (graded)", sample.final_answer or "(empty)", link))
            if sample.reasoning:
                blocks.append(_pre(f"{label}reasoning (not graded)", sample.reasoning, link))
        if blocks:
            report.extras = list(getattr(report, "extras", [])) + [extras.html("".join(blocks))]

    def pytest_html_results_summary(self, prefix: list, summary: list, postfix: list, session) -> None:
        recorder = self.session.recorder
        if recorder is None:
            return
        rows = summary_rows(recorder.data)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
        )
        table = ('<h2>llmbench scores</h2><table class="llmbench-summary" border="1" cellpadding="4">'
                 "<tr><th>Test</th><th>Difficulty</th><th>Score</th><th>%</th></tr>" + body + "</table>")
        if recorder.data["sampling"]["samples"] > 1:
            checks = "".join(
                f"<tr><td>{escape(c)}</td><td>{escape(k)}</td><td>{escape(ci)}</td></tr>"
                for c, k, ci in check_rows(recorder.data)
            )
            table += ("<h3>Pass rate per check (95% Wilson interval)</h3><table border=\"1\" cellpadding=\"4\">"
                      "<tr><th>Check</th><th>Passes</th><th>95% CI</th></tr>" + checks + "</table>")
        judge = recorder.data.get("judge")
        if judge:
            judge_rows = "".join(
                f"<tr><td>{escape(d['check'])}</td><td>{d['sample'] + 1}</td>"
                f"<td>{'PASS' if d['rule'] else 'FAIL'}</td><td>{'PASS' if d['judge'] else 'FAIL'}</td>"
                f"<td>{escape(d['judge_reason'])}</td><td>{escape(d['rule_evidence'])}</td></tr>"
                for d in judge["disagreements"]
            ) or '<tr><td colspan="6">none</td></tr>'
            table += (f"<h3>Judge disagreements for review ({escape(judge['model']['name'])}; never scored)</h3>"
                      '<table border="1" cellpadding="4"><tr><th>Check</th><th>Sample</th><th>Rule</th>'
                      "<th>Judge</th><th>Judge's reason</th><th>Rule evidence</th></tr>" + judge_rows + "</table>")
        e = self.session.endpoint
        status = recorder.data.get("status")
        reason = recorder.data.get("status_reason")
        facts = [("Status", f"{status}: {reason}" if reason else str(status)),
                 ("Model", e.name), ("Served as", e.served_name), ("Endpoint", e.api_url),
                 ("Run", str(self.session.run_dir))]
        if e.demo:
            facts.append(("Server", "llmbench built-in demo server (reference answers, not a model)"))
        facts += [(k.capitalize(), str(v)) for k, v in self.session.serving.items() if v]
        if self.session.verifier is not None:
            facts.append(("Fix runs", self.session.verifier.status_line().removeprefix("fix runs: ")))
        prefix.append("<p>" + "<br>".join(f"<b>{escape(k)}:</b> {escape(v)}" for k, v in facts) + "</p>" + table)

    @pytest.hookimpl(tryfirst=True)  # before pytest-html renders the environment table
    def pytest_sessionstart(self, session) -> None:
        _scrub_api_key(session.config, self.session)

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionfinish(self, session):
        """After pytest-html wrote the report: the key goes, wherever it got in (output, logs, answers)."""
        result = yield
        path = getattr(session.config.option, "htmlpath", None)
        if path and Path(path).is_file():
            text = Path(path).read_text(encoding="utf-8")
            clean = redact(text)
            if clean != text:
                Path(path).write_text(clean, encoding="utf-8")
        return result


def _scrub_api_key(config, bench_session) -> None:
    """No API key in the report's environment table (pytest-metadata may collect env vars)."""
    from pytest_metadata.plugin import metadata_key  # pytest-html's own dependency
    metadata = config.stash.get(metadata_key, None)
    if metadata is None:
        return
    secrets = {s for s in (config.getoption("api_key"), os.environ.get("OPENAI_API_KEY")) if s}
    for key in list(metadata):
        value = str(metadata[key])
        if "KEY" in str(key).upper() or "TOKEN" in str(key).upper() or any(s in value for s in secrets):
            del metadata[key]
    metadata["llmbench model"] = bench_session.endpoint.alias
    # pytest-html 4 puts environment values into the page as HTML (keys as text)
    for key in list(metadata):
        metadata[key] = _escaped(metadata[key])


def _escaped(value):
    """An environment value as pytest-html's table shows it, escaped (nested mappings too)."""
    if isinstance(value, dict):
        return {escape(redact(str(k))): _escaped(v) for k, v in value.items()}
    return escape(redact(str(value)))
