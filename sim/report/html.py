"""One self-contained HTML file per run: summary, figures, tables and the resolved scenario.

Figures are embedded as base64 `data:image/png` URIs and the style sheet is inline, so the file opens
in any browser without a network and can be mailed or attached as it is.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from sim import __version__
from sim.report.figures import make_figures, png_bytes, SWEEP_TABLES
from sim.report.naming import display_scale, unit_of, words

MAX_TABLE_ROWS = 500

# The headline numbers, in this order, when the summary has them.
HEADLINE = ("simulated_s", "gpus", "nodes", "gpu_hours", "it_energy_kwh", "facility_energy_kwh", "pue",
            "carbon_kg", "carbon_market_kg", "carbon_marginal_kg", "embodied_carbon_kg", "water_l",
            "water_offsite_l", "water_total_l", "energy_cost_usd", "hardware_cost_usd", "cost_usd", "wall_s")

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
       max-width: 72rem; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } .sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f4f4f4; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9rem; }
pre { background: #f7f7f7; padding: 1rem; overflow-x: auto; font-size: 0.8rem; }
.note { color: #666; font-size: 0.9rem; } .warn { color: #a94400; }
.scroll { overflow-x: auto; max-width: 100%; }
"""


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def format_number(value: float) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if not math.isfinite(value):
        return "n/a"
    magnitude = abs(value)
    if magnitude != 0 and (magnitude >= 1e9 or magnitude < 1e-3):
        return f"{value:.4g}"
    if magnitude >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def format_quantity(name: str, value: object) -> tuple[str, str]:
    """(value text, unit) of one summary entry, scaled for reading (kWh -> MWh, kg -> t, s -> d)."""
    if value is None:
        return "n/a", unit_of(name)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        unit = unit_of(name)
        if unit == "kg":
            unit = "kgCO2e" if "carbon" in name else unit
        divisor, shown_unit = display_scale(unit, [float(value)])
        if divisor == 1.0:
            return format_number(value), unit
        return format_number(float(value) / divisor), shown_unit
    return str(value), ""


def _summary_rows(summary: dict) -> tuple[list[tuple[str, str, str]], dict[str, list[dict]]]:
    """Scalar entries as (name, value, unit) rows (dicts flattened one level), lists of records apart."""
    rows, records = [], {}
    for key, value in summary.items():
        if isinstance(value, dict):
            for sub, inner in value.items():
                if not isinstance(inner, (dict, list)):
                    rows.append((f"{key}.{sub}", *format_quantity(str(sub), inner)))
        elif isinstance(value, list):
            if value and all(isinstance(v, dict) for v in value):
                records[key] = value
            elif key != "warnings":
                rows.append((key, ", ".join(map(str, value)) or "(none)", ""))
        else:
            rows.append((key, *format_quantity(key, value)))
    return rows, records


# Names that say more than their words: which accounting a carbon or water total is.
LABELS = {
    "carbon_kg": "carbon, location-based", "carbon_market_kg": "carbon, market-based",
    "carbon_marginal_kg": "carbon, marginal", "embodied_carbon_kg": "carbon, embodied",
    "water_l": "water, on site", "water_offsite_l": "water, off site", "water_total_l": "water, total",
    "cost_usd": "cost, total", "wall_s": "wall time",
}


def _label(name: str) -> str:
    return LABELS.get(name) or (words(name) if "." not in name else name)


def _kv_table(rows: list[tuple[str, str, str]]) -> str:
    body = "".join(
        f"<tr><th>{_esc(_label(name))}</th><td class=num>{_esc(value)}</td>"
        f"<td>{_esc(unit)}</td></tr>"
        for name, value, unit in rows
    )
    return f"<table><tbody>{body}</tbody></table>"


def frame_table(frame: pd.DataFrame, limit: int = MAX_TABLE_ROWS) -> str:
    """A DataFrame as an HTML table, the unit of each column under its name; numbers right-aligned."""
    shown = frame.head(limit)
    head = "".join(
        f"<th>{_esc(c)}" + (f"<br><small>{_esc(unit_of(str(c)))}</small>" if unit_of(str(c)) else "") + "</th>"
        for c in shown.columns
    )
    body_rows = []
    for _, row in shown.iterrows():
        cells = []
        for value in row.tolist():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                cells.append(f"<td class=num>{_esc(format_number(value))}</td>")
            elif value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
                cells.append("<td></td>")
            elif isinstance(value, pd.Timestamp):
                cells.append(f"<td>{_esc(value.strftime('%Y-%m-%d %H:%M:%S'))}</td>")
            else:
                cells.append(f"<td>{_esc(value)}</td>")
        body_rows.append("<tr>" + "".join(cells) + "</tr>")
    more = (f"<p class=note>{len(frame) - limit:,} more rows are in the Parquet file.</p>"
            if len(frame) > limit else "")
    return (f"<div class=scroll><table><thead><tr>{head}</tr></thead><tbody>{''.join(body_rows)}</tbody></table>"
            f"</div>{more}")


def data_uri_png(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_report(run) -> str:
    """The whole report as one HTML string."""
    summary = run.summary or {}
    scenario = run.scenario or {}
    section = scenario.get("scenario", {}) if isinstance(scenario, dict) else {}
    name = summary.get("scenario") or section.get("name") or (run.path.name if run.path else "run")
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>sim report: {_esc(name)}</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
        f"<h1>{_esc(name)}</h1>",
    ]
    subtitle = [section.get("description") or ""]
    if summary.get("start") and summary.get("end"):
        subtitle.append(f"{summary['start']} to {summary['end']}")
    if summary.get("seed") is not None:
        subtitle.append(f"seed {summary['seed']}")
    parts.append(f"<p class=sub>{_esc(' · '.join(s for s in subtitle if s))}</p>")

    if summary:
        rows, records = _summary_rows(summary)
        order = {key: i for i, key in enumerate(HEADLINE)}
        headline = sorted((r for r in rows if r[0] in order), key=lambda r: order[r[0]])
        parts += ["<h2>Summary</h2>", _kv_table(headline)]
        warnings = summary.get("warnings") or []
        if warnings:
            parts.append("<ul>" + "".join(f"<li class=warn>{_esc(w)}</li>" for w in warnings) + "</ul>")
        rest = [r for r in rows if r[0] not in order]
        if rest:
            parts += ["<details><summary>Every summary value</summary>", _kv_table(rest), "</details>"]
    else:
        records = {}

    made, skipped = make_figures(run)
    if made:
        parts.append("<h2>Figures</h2>")
        for item in made:
            uri = data_uri_png(png_bytes(item.figure))
            parts.append(f'<figure id="{_esc(item.name)}"><img src="{uri}" alt="{_esc(item.title)}">'
                         f"<figcaption>{_esc(item.title)}</figcaption></figure>")
    if skipped:
        parts.append("<p class=note>Not drawn for this run: " + "; ".join(
            f"{_esc(s.title.lower())} ({_esc(s.reason)})" for s in skipped) + ".</p>")

    for table_name in SWEEP_TABLES:
        frame = run.tables.get(table_name)
        if frame is not None:
            parts += [f"<h2>{_esc(table_name.capitalize())}</h2>", frame_table(frame)]
    if run.jobs is not None and not run.jobs.empty:
        parts += ["<h2>Jobs</h2>", frame_table(run.jobs)]
    for key, values in records.items():
        if key == "jobs" and run.jobs is not None:
            continue
        parts += [f"<h2>{_esc(words(key).capitalize())}</h2>", frame_table(pd.DataFrame(values))]

    if scenario:
        parts += ["<h2>Resolved scenario</h2>",
                  "<p class=note>Every key after defaults and overrides (scenario.json).</p>",
                  f"<pre>{_esc(json.dumps(scenario, indent=2, sort_keys=True))}</pre>"]
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts += [f"<p class=note>Made by sim {_esc(__version__)} on {generated}"
              + (f" from {_esc(run.path)}" if run.path else "") + ".</p>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"


def write_report(run, path: Path) -> Path:
    """Write the report to `path` under a temporary name, then rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render_report(run)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
