"""The comparison table: one row per policy (or policy combination) run on the same scenario and seed.

Each row holds the run's footprint and scheduling outcomes; every numeric metric also gets its difference
from the first row (the baseline), absolute (`<metric>_delta`) and relative (`<metric>_delta_pct`, NaN
when the baseline is 0 or missing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyarrow as pa

from sim.output.columns import Column

COMPARE_METRICS: tuple[Column, ...] = (
    Column("facility_energy_kwh", "kWh", "facility energy of the run"),
    Column("it_energy_kwh", "kWh", "IT energy of the run"),
    Column("carbon_kg", "kgCO2e", "operational carbon, location-based (average intensity)"),
    Column("carbon_marginal_kg", "kgCO2e", "operational carbon at the marginal intensity (NaN without one)"),
    Column("carbon_market_kg", "kgCO2e", "operational carbon, market-based"),
    Column("embodied_carbon_kg", "kgCO2e", "embodied carbon of the installed hardware over the run"),
    Column("water_total_l", "L", "on-site + off-site water"),
    Column("cost_usd", "USD", "energy cost (+ hardware cost when given)"),
    Column("makespan_s", "s", "first submission to last completion"),
    Column("mean_wait_s", "s", "mean of started_at - submitted_at over the jobs that started"),
    Column("p99_wait_s", "s", "99th percentile of the same"),
    Column("jobs_completed", "1", "jobs completed by the end of the run"),
    Column("deadlines_missed", "1", "jobs with a deadline that finished after it (or not at all)"),
    Column("carbon_saved_kg", "kgCO2e", "carbon credited to shifting: sum of the jobs' run-now baseline - as run"),
    Column("carbon_deferral_saved_kg", "kgCO2e", "the part of carbon_saved_kg credited to deferral decisions alone"),
    Column("carbon_marginal_saved_kg", "kgCO2e", "carbon_saved_kg on the marginal signal (NaN without one)"),
    Column("inference_p99_latency_s", "s", "99th percentile end-to-end latency of inference requests (NaN without services)"),
    Column("slo_attainment", "1", "share of inference requests within their SLO (NaN without services)"),
    Column("simulated_s", "s", "length of the run"),
)


def _num(value) -> float:
    return math.nan if value is None else float(value)


def inference_metrics(result) -> dict:
    """p99 end-to-end latency over every completed request of every service, and the share of completed
    requests that met their service's SLO (services without an SLO left out); empty without services."""
    import numpy as np

    if result.requests is None or result.requests.num_rows == 0:
        return {}
    requests = result.requests.to_pandas()
    done = requests[requests["status"] == "completed"]
    metrics = {"p99_latency_s": float(np.percentile(done["latency_s"], 99)) if len(done) else None}
    judged = [(s["slo"]["attainment"], s["completed"]) for s in result.summary.get("services", [])
              if s.get("slo", {}).get("attainment") is not None and s["completed"]]
    if judged:
        metrics["slo_attainment"] = sum(a * n for a, n in judged) / sum(n for _, n in judged)
    return metrics


def row_from_summary(label: str, summary: dict, inference: dict | None = None) -> dict:
    """The metrics of one run (its summary.json as a dict, and its `inference_metrics`)."""
    queue = summary.get("queue", {})
    inference = inference or {}
    return {
        "policy": label,
        "facility_energy_kwh": _num(summary.get("facility_energy_kwh")),
        "it_energy_kwh": _num(summary.get("it_energy_kwh")),
        "carbon_kg": _num(summary.get("carbon_kg")),
        "carbon_marginal_kg": _num(summary.get("carbon_marginal_kg")),
        "carbon_market_kg": _num(summary.get("carbon_market_kg")),
        "embodied_carbon_kg": _num(summary.get("embodied_carbon_kg")),
        "water_total_l": _num(summary.get("water_total_l")),
        "cost_usd": _num(summary.get("cost_usd")),
        "makespan_s": _num(queue.get("makespan_s")),
        "mean_wait_s": _num(queue.get("mean_wait_s")),
        "p99_wait_s": _num(queue.get("p99_wait_s")),
        "jobs_completed": _num(queue.get("completed")),
        "deadlines_missed": _num(queue.get("deadlines_missed")),
        "carbon_saved_kg": _num(queue.get("carbon_saved_kg")),
        "carbon_deferral_saved_kg": _num(queue.get("carbon_deferral_saved_kg")),
        "carbon_marginal_saved_kg": _num(queue.get("carbon_marginal_saved_kg")),
        "inference_p99_latency_s": _num(inference.get("p99_latency_s")),
        "slo_attainment": _num(inference.get("slo_attainment")),
        "simulated_s": _num(summary.get("simulated_s")),
    }


def with_deltas(rows: list[dict]) -> list[dict]:
    """Add `<metric>_delta` (row - baseline) and `<metric>_delta_pct` (100 x delta / |baseline|) to each row."""
    if not rows:
        return []
    base = rows[0]
    out = []
    for row in rows:
        extended = dict(row)
        for column in COMPARE_METRICS:
            b, v = base[column.name], row[column.name]
            delta = v - b
            extended[f"{column.name}_delta"] = delta
            extended[f"{column.name}_delta_pct"] = 100.0 * delta / abs(b) if (b == b and b != 0) else math.nan
        out.append(extended)
    return out


def comparison_table(rows: list[dict], metadata: dict[bytes, bytes] | None = None) -> pa.Table:
    """The rows (with deltas) as an Arrow table: `policy` first, then each metric with its two deltas."""
    rows = with_deltas(rows)
    names = ["policy"]
    for column in COMPARE_METRICS:
        names += [column.name, f"{column.name}_delta", f"{column.name}_delta_pct"]
    arrays = [pa.array([r["policy"] for r in rows], type=pa.string())]
    arrays += [pa.array([r[n] for r in rows], type=pa.float64()) for n in names[1:]]
    table = pa.table(arrays, names=names)
    return table.replace_schema_metadata(metadata) if metadata else table


@dataclass(frozen=True)
class Shown:
    """A column of the printed table: metric, header, scale to the shown unit, decimals."""

    metric: str
    header: str
    scale: float
    decimals: int


PRINTED: tuple[Shown, ...] = (
    Shown("facility_energy_kwh", "energy MWh", 1e-3, 2),
    Shown("carbon_kg", "CO2 t", 1e-3, 3),
    Shown("carbon_marginal_kg", "CO2 marg t", 1e-3, 3),
    Shown("embodied_carbon_kg", "embodied t", 1e-3, 3),
    Shown("water_total_l", "water m3", 1e-3, 1),
    Shown("cost_usd", "cost USD", 1.0, 0),
    Shown("makespan_s", "makespan h", 1 / 3600, 2),
    Shown("mean_wait_s", "wait h", 1 / 3600, 2),
    Shown("p99_wait_s", "p99 wait h", 1 / 3600, 2),
    Shown("carbon_deferral_saved_kg", "deferral credit kg", 1.0, 1),
    Shown("inference_p99_latency_s", "p99 latency s", 1.0, 3),
    Shown("slo_attainment", "SLO", 1.0, 3),
)


def _cells(rows: list[dict]) -> tuple[list[str], list[list[str]]]:
    """Header and body of the printed table; all-NaN metrics left out."""
    rows = with_deltas(rows)
    shown = [s for s in PRINTED if any(r[s.metric] == r[s.metric] for r in rows)]
    header = ["policy"] + [s.header for s in shown]
    body = []
    for i, r in enumerate(rows):
        cells = [r["policy"]]
        for s in shown:
            value = r[s.metric]
            if value != value:
                cells.append("-")
                continue
            text = f"{value * s.scale:,.{s.decimals}f}"
            pct, delta = r[f"{s.metric}_delta_pct"], r[f"{s.metric}_delta"]
            if i > 0 and pct == pct:
                text += f" ({pct:+.1f}%)"
            elif i > 0 and delta == delta and delta != 0:
                text += f" ({delta * s.scale:+,.{s.decimals}f})"
            cells.append(text)
        body.append(cells)
    return header, body


def format_table(rows: list[dict]) -> str:
    """A plain-text table: each metric with its change from the baseline (first row) in per cent."""
    header, body = _cells(rows)
    widths = [max(len(c) for c in col) for col in zip(header, *body)]
    lines = ["  ".join(c.rjust(w) if j else c.ljust(w) for j, (c, w) in enumerate(zip(cells, widths)))
             for cells in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows: list[dict]) -> str:
    """The printed table as Markdown (for the README)."""
    header, body = _cells(rows)
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cells) + " |" for cells in body]
    return "\n".join(out)
