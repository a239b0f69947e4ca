"""Render a leaderboard as one self-contained HTML page.

Everything from run files passes through ``html.escape``; no URL is ever built from
data (the only links are to this page's own fixed section ids); plots are base64 data
URIs. A Content-Security-Policy allows only this page's own script and stylesheet (by
hash) and data: images, so even a missed escape could not run a script or fetch anything.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from llmbench.leaderboard.build import Leaderboard
from llmbench.leaderboard.tables import Cell, Table

_KNOWN_TAGS = {"published", "demo", "interrupted", "running"}

STYLE = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --head: #f6f8fa; --accent: #0969da;
        --pub: #ddf4ff; --pubfg: #0550ae; --warn: #fff1e5; --warnfg: #953800; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); }
main { max-width: 1280px; margin: 0 auto; padding: 1.2rem 1.5rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 .2rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .4rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
.meta, .note { color: var(--muted); font-size: .9rem; margin: .2rem 0 .6rem; }
nav { margin: .6rem 0; font-size: .92rem; }
nav a { color: var(--accent); margin-right: .9rem; text-decoration: none; }
ul.notes { padding-left: 1.2rem; font-size: .92rem; }
ul.notes li { margin: .25rem 0; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; font-variant-numeric: tabular-nums; }
th, td { padding: .35rem .6rem; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
td.num, th.num { text-align: right; }
td.wrap { white-space: normal; min-width: 16rem; }
thead th { background: var(--head); position: sticky; top: 0; }
th button { all: unset; cursor: pointer; font-weight: 600; }
th button:focus-visible { outline: 2px solid var(--accent); }
th[aria-sort=ascending] button::after { content: " ▲"; }
th[aria-sort=descending] button::after { content: " ▼"; }
tbody tr:nth-child(even) { background: #fbfcfd; }
tbody tr:hover { background: #f0f6ff; }
tr.published td { color: #3d4b5c; }
.tag { display: inline-block; font-size: .72rem; padding: 0 .4rem; margin-left: .35rem; border-radius: 8px;
       background: var(--warn); color: var(--warnfg); vertical-align: 1px; }
.tag.published { background: var(--pub); color: var(--pubfg); }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
figcaption { color: var(--muted); font-size: .88rem; }
"""

SCRIPT = """
(function () {
  "use strict";
  function key(cell) {
    var v = cell.getAttribute("data-sort");
    return v === null ? cell.textContent.trim().toLowerCase() : v;
  }
  function sortTable(table, col, numeric, dir) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[col]), y = key(b.cells[col]);
      var d = numeric ? parseFloat(x) - parseFloat(y) : (x < y ? -1 : (x > y ? 1 : 0));
      return dir * d;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      var button = th.querySelector("button");
      if (!button) { return; }
      button.addEventListener("click", function () {
        var numeric = th.getAttribute("data-type") === "number";
        var current = th.getAttribute("aria-sort");
        var next = current ? (current === "ascending" ? "descending" : "ascending")
                           : (numeric ? "descending" : "ascending");
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", next);
        sortTable(table, col, numeric, next === "ascending" ? 1 : -1);
      });
    });
  });
})();
"""


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


CSP = (f"default-src 'none'; img-src data:; style-src {_sha256(STYLE)}; script-src {_sha256(SCRIPT)}; "
       "base-uri 'none'; form-action 'none'")


def _cell(cell: Cell, numeric: bool, wrap: bool) -> str:
    classes = [c for c, on in (("num", numeric), ("wrap", wrap)) if on]
    attrs = f' class="{" ".join(classes)}"' if classes else ""
    if cell.sort is not None:
        attrs += f' data-sort="{escape(str(cell.sort))}"'
    if cell.title:
        attrs += f' title="{escape(cell.title)}"'
    text = escape(cell.text)
    if cell.strong and cell.text != "—":
        text = f"<strong>{text}</strong>"
    for tag in cell.tags:
        known = f" {tag}" if tag in _KNOWN_TAGS else ""
        text += f' <span class="tag{known}">{escape(tag)}</span>'
    return f"<td{attrs}>{text}</td>"


def render_table(table: Table, level: int = 2) -> str:
    head = []
    for i, column in enumerate(table.columns):
        numeric = i in table.numeric
        attrs = ' class="num" data-type="number"' if numeric else ""
        head.append(f'<th scope="col"{attrs}><button type="button">{escape(column)}</button></th>')
    wrap_cols = {i for i, c in enumerate(table.columns) if c in ("Why", "Rule")}
    body = []
    for row in table.rows:
        published = any("published" in c.tags for c in row)
        tr = '<tr class="published">' if published else "<tr>"
        body.append(tr + "".join(_cell(c, i in table.numeric, i in wrap_cols) for i, c in enumerate(row)) + "</tr>")
    parts = [f'<section id="{table.id}">', f"<h{level}>{escape(table.title)}</h{level}>"]
    if table.note:
        parts.append(f'<p class="note">{escape(table.note)}</p>')
    if table.rows:
        parts.append(f'<div class="scroll"><table class="sortable" id="table-{table.id}">'
                     f"<thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")
    else:
        parts.append('<p class="note">No rows.</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _plot(plot) -> str:
    data = base64.b64encode(plot.png).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{escape(plot.title)}">'
            f"<figcaption>{escape(plot.title)} (also saved as {escape(plot.file)})</figcaption></figure>")


def render_html(board: Leaderboard) -> str:
    sections = list(board.tables)
    nav = [(t.id, t.title) for t in sections] + [("plots", "Plots")]
    if board.reference_notes:
        nav.append(("reference", "Published reference"))
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{escape(board.title)}</title>",
        f"<style>{STYLE}</style>",
        "</head><body><main>",
        f"<header><h1>{escape(board.title)}</h1>",
        f'<p class="meta">Generated by <code>llmbench report</code> on {escape(board.generated_at)} from: '
        + ", ".join(f"<code>{escape(s)}</code>" for s in board.sources) + ".</p>",
        "<nav>" + "".join(f'<a href="#{i}">{escape(t)}</a>' for i, t in nav) + "</nav></header>",
        '<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in board.notes) + "</ul>",
    ]
    out += [render_table(t) for t in sections]
    out.append('<section id="plots"><h2>Plots</h2>')
    out += [_plot(p) for p in board.plots]
    out += [f'<p class="note">{escape(m)}</p>' for m in board.missing_plots]
    out.append("</section>")
    if board.reference_notes:
        out.append('<section id="reference"><h2>Published reference data</h2>')
        out.append('<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in board.reference_notes) + "</ul>")
        out += [render_table(t, level=3) for t in board.reference_tables]
        out.append("</section>")
    out += ["</main>", f"<script>{SCRIPT}</script>", "</body></html>"]
    return "\n".join(out) + "\n"
