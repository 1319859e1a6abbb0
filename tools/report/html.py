"""Render the compliance report: one self-contained ``index.html`` plus one CSV per query.

The page opens offline: no CDN, no JavaScript library. Charts are inline SVG drawn here
(horizontal bar charts, stacked where a bar has several parts); the only script is a few lines
that sort a table when its header is clicked. Order on the page: summary numbers, charts, then
one table per query (at most :data:`MAX_TABLE_ROWS` rows shown; the CSV always has them all).
"""

from __future__ import annotations

import csv
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tools.report.queries import QueryResult

MAX_TABLE_ROWS = 500
COMPLIANCE_SERIES = (
    ("compliant", "Compliant", "#2e7d32"),
    ("noncompliant", "Non-compliant", "#c62828"),
    ("not_scanned", "Not scanned", "#9e9e9e"),
)
SEVERITY_COLORS = {
    "Critical": "#8e0000",
    "Important": "#d84315",
    "High": "#d84315",
    "Medium": "#f9a825",
    "Moderate": "#f9a825",
    "Low": "#1565c0",
}
STALE_SERIES = (
    ("8-14", "8-14 days", "#ffb74d"),
    ("15-30", "15-30 days", "#f57c00"),
    ("31+", "over 30 days", "#6d4c41"),
)
NODE_SERIES = (("ec2_nodes", "EC2", "#1565c0"), ("hybrid_nodes", "Hybrid (mi-)", "#6a1b9a"))
TABLE_ORDER = (
    "noncompliant_nodes",
    "missing_security_patches",
    "missing_patches_by_severity",
    "stale_nodes",
    "application_versions",
    "node_types",
)


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: its label and ``(series key, value)`` parts, stacked in order."""

    label: str
    parts: tuple[tuple[str, float], ...]

    @property
    def total(self) -> float:
        """Sum of the parts."""
        return sum(v for _, v in self.parts)


def _rows(results: Mapping[str, QueryResult], name: str) -> list[dict[str, Any]]:
    result = results.get(name)
    return result.dicts() if result else []


def summary(results: Mapping[str, QueryResult]) -> dict[str, float]:
    """The headline numbers, from the query results.

    Returns a dict with: ``nodes`` (managed nodes not terminated), ``ec2_nodes``,
    ``hybrid_nodes``, ``compliant``, ``noncompliant``, ``not_scanned`` (node counts),
    ``compliant_pct`` (compliant / scanned nodes, in %, 0 when none is scanned),
    ``security_patches_missing`` (distinct Critical/Important security patches missing
    somewhere), ``security_patch_gaps`` (sum over those patches of nodes missing them),
    ``missing_patches`` (all missing/failed patch items) and ``stale_nodes``.
    """
    nodes = _rows(results, "node_types")
    compliance = _rows(results, "noncompliant_nodes")
    security = _rows(results, "missing_security_patches")
    severity = _rows(results, "missing_patches_by_severity")
    compliant = sum(r["compliant"] for r in compliance)
    noncompliant = sum(r["noncompliant"] for r in compliance)
    scanned = compliant + noncompliant
    return {
        "nodes": sum(r["nodes"] for r in nodes),
        "ec2_nodes": sum(r["ec2_nodes"] for r in nodes),
        "hybrid_nodes": sum(r["hybrid_nodes"] for r in nodes),
        "compliant": compliant,
        "noncompliant": noncompliant,
        "not_scanned": sum(r["not_scanned"] for r in compliance),
        "compliant_pct": round(100.0 * compliant / scanned, 1) if scanned else 0.0,
        "security_patches_missing": len(security),
        "security_patch_gaps": sum(r["nodes"] for r in security),
        "missing_patches": sum(r["missing_patches"] for r in severity),
        "stale_nodes": len(_rows(results, "stale_nodes")),
    }


def compliance_bars(rows: Sequence[Mapping[str, Any]], by: Sequence[str]) -> list[Bar]:
    """Compliant / non-compliant / not-scanned node counts summed per group.

    ``rows`` are ``noncompliant_nodes`` rows, grouped by the columns ``by`` (e.g.
    ``("accountid", "region")`` or ``("patchgroup",)``); the label is the values joined by
    " / "; bars are sorted by label.
    """
    sums: dict[str, dict[str, float]] = {}
    for row in rows:
        label = " / ".join(str(row[c]) for c in by)
        bucket = sums.setdefault(label, dict.fromkeys((k for k, _, _ in COMPLIANCE_SERIES), 0))
        for key, _, _ in COMPLIANCE_SERIES:
            bucket[key] += row[key]
    return [
        Bar(label, tuple((k, sums[label][k]) for k, _, _ in COMPLIANCE_SERIES))
        for label in sorted(sums)
    ]


def stale_bars(rows: Sequence[Mapping[str, Any]]) -> list[Bar]:
    """Stale nodes (``stale_nodes`` rows) per account / Region.

    Each bar is split by days silent: 8-14, 15-30, over 30.
    """
    sums: dict[str, dict[str, float]] = {}
    for row in rows:
        label = f"{row['accountid']} / {row['region']}"
        bucket = sums.setdefault(label, dict.fromkeys((k for k, _, _ in STALE_SERIES), 0))
        days = row["days_silent"]
        bucket["8-14" if days <= 14 else "15-30" if days <= 30 else "31+"] += 1
    return [
        Bar(label, tuple((k, sums[label][k]) for k, _, _ in STALE_SERIES)) for label in sorted(sums)
    ]


def severity_bars(rows: Sequence[Mapping[str, Any]]) -> list[Bar]:
    """Missing patch items per patch severity, most severe first.

    ``rows`` are ``missing_patches_by_severity`` rows; each bar has one part keyed by the
    severity itself.
    """
    order = ["Critical", "Important", "High", "Medium", "Moderate", "Low"]

    def rank(r: Mapping[str, Any]) -> tuple[int, str]:
        sev = str(r["patchseverity"])
        return (order.index(sev) if sev in order else len(order), sev)

    return [
        Bar(str(r["patchseverity"]), ((str(r["patchseverity"]), r["missing_patches"]),))
        for r in sorted(rows, key=rank)
    ]


def node_bars(rows: Sequence[Mapping[str, Any]]) -> list[Bar]:
    """EC2 and hybrid node counts per account / Region (``node_types`` rows)."""
    return [
        Bar(f"{r['accountid']} / {r['region']}", tuple((k, r[k]) for k, _, _ in NODE_SERIES))
        for r in rows
    ]


def _fmt(value: float) -> str:
    """Integers with thousands separators, other numbers with one decimal."""
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.1f}"


def bar_chart(
    title: str,
    bars: Sequence[Bar],
    colors: Mapping[str, str],
    legend: Sequence[tuple[str, str]] = (),
    *,
    width: int = 620,
) -> str:
    """An inline SVG horizontal bar chart (stacked when a bar has several parts).

    Args:
        title: chart title (also the SVG's accessible name).
        bars: the bars, drawn top to bottom; each bar's total is printed at its end.
        colors: fill colour per part key (unknown keys are grey).
        legend: ``(key, label)`` pairs for the legend (empty: no legend).
        width: SVG width in px.
    """
    label_w, value_w, row_h, top = 190, 70, 26, 34 + (22 if legend else 0)
    plot_w = width - label_w - value_w
    height = top + max(len(bars), 1) * row_h + 8
    biggest = max((b.total for b in bars), default=0) or 1
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title)}">',
        f'<text x="0" y="18" class="ct">{html.escape(title)}</text>',
    ]
    x = 0
    for key, label in legend:
        out.append(
            f'<rect x="{x}" y="30" width="12" height="12" fill="{colors.get(key, "#9e9e9e")}"/>'
            f'<text x="{x + 16}" y="40" class="lg">{html.escape(label)}</text>'
        )
        x += 24 + 7 * len(label)
    if not bars:
        out.append(f'<text x="0" y="{top + 16}" class="lg">no data</text>')
    for i, bar in enumerate(bars):
        y = top + i * row_h
        out.append(
            f'<text x="{label_w - 8}" y="{y + 16}" class="bl" text-anchor="end">'
            f"{html.escape(bar.label)}</text>"
        )
        offset = 0.0
        for key, value in bar.parts:
            if value <= 0:
                continue
            w = plot_w * value / biggest
            out.append(
                f'<rect x="{label_w + offset:.1f}" y="{y + 4}" width="{max(w, 1):.1f}" '
                f'height="{row_h - 8}" fill="{colors.get(key, "#9e9e9e")}">'
                f"<title>{html.escape(bar.label)}: {html.escape(key)} {_fmt(value)}</title></rect>"
            )
            offset += w
        out.append(
            f'<text x="{label_w + offset + 6:.1f}" y="{y + 16}" class="bv">{_fmt(bar.total)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;
color:#1b1b1b;background:#f4f5f7}
header{background:#232f3e;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:24px}header p{margin:4px 0 0;color:#d5dbe1;font-size:14px}
main{padding:20px 32px;max-width:1320px}
h2{font-size:20px;margin:28px 0 10px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:12px}
.card{background:#fff;border-radius:6px;padding:14px 16px;box-shadow:0 1px 2px #0002}
.card .n{font-size:30px;font-weight:700}.card .l{color:#444;font-size:14px}
.warning{background:#fff3e0;border-left:4px solid #e65100;padding:.5em 1em}
.card.bad .n{color:#c62828}.card.good .n{color:#2e7d32}.card.warn .n{color:#e65100}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(640px,1fr));gap:14px}
.chart{background:#fff;border-radius:6px;padding:12px;box-shadow:0 1px 2px #0002;overflow-x:auto}
svg .ct{font-size:16px;font-weight:600;fill:#1b1b1b}svg .lg{font-size:13px;fill:#333}
svg .bl{font-size:13px;fill:#222}svg .bv{font-size:13px;fill:#222;font-weight:600}
section.q{background:#fff;border-radius:6px;padding:6px 16px 14px;margin:14px 0;
box-shadow:0 1px 2px #0002}
section.q p{margin:4px 0 10px;color:#444}
.tw{max-height:520px;overflow:auto;border:1px solid #dde1e6}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{padding:5px 10px;border-bottom:1px solid #e6e8eb;text-align:left;white-space:nowrap}
th{background:#eef1f4;position:sticky;top:0;cursor:pointer;user-select:none}
th:after{content:" \\2195";color:#888}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#555;font-size:13px}a{color:#0b5cad}
"""

_SCRIPT = """
document.querySelectorAll("table.sortable th").forEach(function(th,i){th.addEventListener(
"click",function(){var t=th.closest("table"),b=t.tBodies[0],r=Array.from(b.rows),
d=th.dataset.dir==="asc"?-1:1;th.dataset.dir=d===1?"asc":"desc";r.sort(function(x,y){
var a=x.cells[i].dataset.v,c=y.cells[i].dataset.v,p=parseFloat(a),q=parseFloat(c);
return(!isNaN(p)&&!isNaN(q)?p-q:a.localeCompare(c))*d});r.forEach(function(e){b.appendChild(e)})})});
"""


def _table(result: QueryResult) -> str:
    rows = result.rows[:MAX_TABLE_ROWS]
    numeric_columns = [
        bool(rows) and all(isinstance(r[i], (int, float)) or r[i] is None for r in rows)
        for i in range(len(result.columns))
    ]
    head = "".join(
        f"<th{' class=num' if numeric else ''}>{html.escape(c)}</th>"
        for c, numeric in zip(result.columns, numeric_columns, strict=True)
    )
    body = []
    for row in rows:
        cells = []
        for value in row:
            text = "" if value is None else str(value)
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            shown = _fmt(value) if numeric else text
            cells.append(
                f'<td{" class=num" if numeric else ""} data-v="{html.escape(text)}">'
                f"{html.escape(shown)}</td>"
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    note = ""
    if len(result.rows) > MAX_TABLE_ROWS:
        note = (
            f'<p class="note">Showing the first {MAX_TABLE_ROWS:,} of {len(result.rows):,} rows;'
            f" the CSV has all of them.</p>"
        )
    if not result.rows:
        return '<p class="note">No rows.</p>'
    return (
        f'{note}<div class="tw"><table class="sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def render(
    results: Mapping[str, QueryResult],
    *,
    source: str,
    generated_at: datetime,
    params: Mapping[str, str] | None = None,
    warnings: Sequence[str] = (),
) -> str:
    """The whole ``index.html`` as a string.

    Args:
        results: query results by query name (from :func:`tools.report.queries.run_all`).
        source: where the data came from (shown in the header).
        generated_at: report time (shown in the header, UTC).
        params: the query parameters used (shown under their query).
        warnings: what the read left out (``run_all(warnings=...)``), shown under the header.
    """
    s = summary(results)
    cards: list[tuple[str, float | str, str, str]] = [
        (
            "Managed nodes",
            s["nodes"],
            "",
            f"{_fmt(s['ec2_nodes'])} EC2, {_fmt(s['hybrid_nodes'])} hybrid",
        ),
        (
            "Patch compliant",
            f"{s['compliant_pct']:.1f}%",
            "good" if s["compliant_pct"] >= 95 else "warn",
            f"of {_fmt(s['compliant'] + s['noncompliant'])} scanned nodes",
        ),
        (
            "Non-compliant nodes",
            s["noncompliant"],
            "bad" if s["noncompliant"] else "good",
            "missing or failed patches",
        ),
        (
            "Not scanned",
            s["not_scanned"],
            "warn" if s["not_scanned"] else "good",
            "no patch compliance yet",
        ),
        (
            "Security patches missing",
            s["security_patch_gaps"],
            "bad" if s["security_patch_gaps"] else "good",
            f"installs missing, {_fmt(s['security_patches_missing'])} Critical/Important patches",
        ),
        (
            "Silent > 7 days",
            s["stale_nodes"],
            "warn" if s["stale_nodes"] else "good",
            "nodes not reporting inventory",
        ),
    ]
    card_html = "".join(
        f'<div class="card {cls}"><div class="n">'
        f"{html.escape(value if isinstance(value, str) else _fmt(value))}</div>"
        f'<div class="l"><b>{html.escape(label)}</b><br>{html.escape(sub)}</div></div>'
        for label, value, cls, sub in cards
    )
    colors = {k: c for k, _, c in COMPLIANCE_SERIES + STALE_SERIES + NODE_SERIES}
    colors.update(SEVERITY_COLORS)
    compliance = _rows(results, "noncompliant_nodes")
    legend = [(k, label) for k, label, _ in COMPLIANCE_SERIES]
    charts = [
        bar_chart(
            "Patch compliance by account / Region",
            compliance_bars(compliance, ("accountid", "region")),
            colors,
            legend,
        ),
        bar_chart(
            "Patch compliance by patch group",
            compliance_bars(compliance, ("patchgroup",)),
            colors,
            legend,
        ),
        bar_chart(
            "Missing patches by severity",
            severity_bars(_rows(results, "missing_patches_by_severity")),
            colors,
        ),
        bar_chart(
            "Nodes silent for more than 7 days",
            stale_bars(_rows(results, "stale_nodes")),
            colors,
            [(k, label) for k, label, _ in STALE_SERIES],
        ),
        bar_chart(
            "EC2 and hybrid managed nodes",
            node_bars(_rows(results, "node_types")),
            colors,
            [(k, label) for k, label, _ in NODE_SERIES],
        ),
    ]
    sections = []
    names = [n for n in TABLE_ORDER if n in results] + sorted(set(results) - set(TABLE_ORDER))
    for name in names:
        result = results[name]
        used = ""
        if result.query.params and params:
            used = (
                " Parameters: "
                + ", ".join(f"{p} = {params.get(p, '')!r}" for p in result.query.params)
                + "."
            )
        sections.append(
            f'<section class="q" id="{html.escape(name)}">'
            f"<h2>{html.escape(result.query.title)}</h2>"
            f"<p>{html.escape(result.query.description)}{html.escape(used)} "
            f'<a href="{html.escape(name)}.csv">{html.escape(name)}.csv</a> '
            f"({len(result.rows):,} rows; Athena named query <code>{html.escape(name)}</code>)</p>"
            f"{_table(result)}</section>"
        )
    stamp = generated_at.strftime("%Y-%m-%d %H:%M UTC")
    chart_html = "".join(f'<div class="chart">{c}</div>' for c in charts)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>fleetpatch compliance report {html.escape(stamp)}</title>"
        f"<style>{_CSS}</style></head>"
        f"<body><header><h1>fleetpatch — patch compliance and inventory</h1>"
        f"<p>Source: {html.escape(source)} · generated {html.escape(stamp)} · "
        "Resource Data Sync data, the same SQL as the Athena named queries</p></header><main>"
        + "".join(f'<p class="warning">Warning: {html.escape(w)}</p>' for w in warnings)
        + f"<h2>Summary</h2>"
        f'<div class="cards">{card_html}</div>'
        f'<h2>Charts</h2><div class="charts">{chart_html}</div>'
        f'<h2>Tables</h2><p class="note">Click a column header to sort.</p>{"".join(sections)}'
        f"</main><script>{_SCRIPT}</script></body></html>"
    )


def write_csv(result: QueryResult, path: Path) -> None:
    """Write one query result as CSV (header row = column names; None as empty)."""
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(result.columns)
        writer.writerows(["" if v is None else v for v in row] for row in result.rows)


def write_report(
    results: Mapping[str, QueryResult],
    out_dir: Path,
    *,
    source: str,
    generated_at: datetime,
    params: Mapping[str, str] | None = None,
    warnings: Sequence[str] = (),
) -> list[Path]:
    """Write ``out_dir/index.html`` and ``out_dir/<query>.csv``; return the paths written.

    Raises:
        OSError: ``out_dir`` cannot be written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, result in results.items():
        path = out_dir / f"{name}.csv"
        write_csv(result, path)
        written.append(path)
    index = out_dir / "index.html"
    index.write_text(
        render(results, source=source, generated_at=generated_at, params=params, warnings=warnings)
    )
    return [index, *written]
