"""Run the validation scenarios in memory and compare them with the published figures.

error [%] = (simulated - published) / published x 100. A row of role "check" passes when
|error| <= tolerance_pct; the other roles never pass or fail (see sim.validation.table).
"""

from __future__ import annotations

import fnmatch
import math
import time
from dataclasses import dataclass, field

from sim.config.loader import apply_override, parse_override, read_toml, validate_scenario
from sim.config.schema import Scenario
from sim.engine.simulation import RunResult, Simulation
from sim.errors import ScenarioError, SimInputError
from sim.validation.extract import EXTRACTORS, in_unit
from sim.validation.table import NOT_RUN, Case, Check, Variant

PASS, FAIL, INFO, NOT_MODELLED, COUNTEREXAMPLE = "pass", "FAIL", "info", "not modelled yet", "counterexample"
INCOMPLETE = "inputs incomplete"
_RESULT_OF_ROLE = {"model": INFO, "not_modelled": NOT_MODELLED, "incomplete": INCOMPLETE,
                   "counterexample": COUNTEREXAMPLE}


@dataclass(frozen=True)
class ValidationRow:
    case: str
    quantity: str
    unit: str
    mode: str
    published: float
    simulated: float | None
    error_pct: float | None
    tolerance_pct: float | None
    result: str
    kind: str
    why: str


@dataclass
class ValidationReport:
    rows: list[ValidationRow]
    cases_run: list[str]
    cases_not_run: list[str] = field(default_factory=list)  # listed with their reason, nothing to run
    skipped_slow: list[str] = field(default_factory=list)
    without_scenario: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def failures(self) -> list[ValidationRow]:
        return [r for r in self.rows if r.result == FAIL]

    def count(self, result: str) -> int:
        return sum(r.result == result for r in self.rows)


def _unset(data: dict, dotted: str, where: str) -> None:
    path = [int(p) if p.isdigit() else p for p in dotted.split(".")]
    node = data
    try:
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]
    except (KeyError, IndexError, TypeError):
        raise ScenarioError(f"{where}: unset {dotted!r}: the scenario has no such key") from None


def variant_scenario(case: Case, variant: Variant) -> Scenario:
    """The case's scenario with the variant's keys removed, then its overrides applied, validated."""
    path = case.scenario
    where = f"{path} [{variant.name}]"
    data = read_toml(path)
    for dotted in variant.unset:
        _unset(data, dotted, where)
    for text in variant.set:
        key_path, value = parse_override(text)
        apply_override(data, key_path, value, text)
    return validate_scenario(data, where, path.parent, name=path.stem)


def relative_error_pct(simulated: float, published: float) -> float:
    """(simulated - published) / published x 100 [%]. Example: 1,265.1 vs 1,287 -> -1.70%."""
    return (simulated - published) / published * 100.0


def _row(case: Case, check: Check, results: dict[str, tuple[RunResult, Scenario]]) -> ValidationRow:
    output = case.output(check.output)
    mode = case.variant(check.variant).label
    if check.role in NOT_RUN:
        return ValidationRow(case.id, output.quantity, output.unit, "—", output.value, None, None, None,
                             _RESULT_OF_ROLE[check.role], check.kind, check.why)
    simulated = in_unit(EXTRACTORS[check.simulated].read(*results[check.variant]), output.unit)
    error = relative_error_pct(simulated, output.value)
    if check.role == "check":
        result = PASS if abs(error) <= check.tolerance_pct else FAIL
    else:
        result = _RESULT_OF_ROLE[check.role]
    return ValidationRow(case.id, output.quantity, output.unit, mode, output.value, simulated, error,
                         check.tolerance_pct, result, check.kind, check.why)


def run_case(case: Case) -> list[ValidationRow]:
    """Run each variant the case's checks need (once each, in memory) and build its rows."""
    needed = {c.variant for c in case.checks if c.role not in NOT_RUN}
    results = {}
    for name in sorted(needed):
        scenario = variant_scenario(case, case.variant(name))
        results[name] = (Simulation(scenario).run(), scenario)
    return [_row(case, check, results) for check in case.checks]


def select_cases(cases: tuple[Case, ...], patterns: list[str] | tuple[str, ...] = ()) -> list[Case]:
    """Cases whose id matches one of `patterns` (shell globs), all when none; unmatched patterns are errors."""
    if not patterns:
        return list(cases)
    unmatched = [p for p in patterns if not any(fnmatch.fnmatchcase(c.id, p) for c in cases)]
    if unmatched:
        known = ", ".join(c.id for c in cases if c.checks)
        raise SimInputError([f"--case {p!r}: no case of the published table matches; expected one of: {known}"
                             for p in unmatched])
    return [c for c in cases if any(fnmatch.fnmatchcase(c.id, p) for p in patterns)]


def run_validation(cases: tuple[Case, ...], patterns: list[str] | tuple[str, ...] = (),
                   fast: bool = False) -> ValidationReport:
    """Run every selected case that has a scenario; `fast` leaves out cases marked slow."""
    start = time.perf_counter()
    report = ValidationReport(rows=[], cases_run=[])
    for case in select_cases(cases, patterns):
        if not case.checks or (case.scenario is None and case.runs):
            report.without_scenario.append(case.id)
        elif fast and case.slow:
            report.skipped_slow.append(case.id)
        else:
            report.rows.extend(run_case(case))
            if case.runs:
                report.cases_run.append(case.id)
            else:
                report.cases_not_run.append(case.id)
    report.wall_s = time.perf_counter() - start
    return report


# ------------------------------------------------------------------------------------------ tables
COLUMNS = ("case", "quantity", "mode", "published", "simulated", "error", "tolerance", "result", "kind")


def format_number(value: float | None) -> str:
    """Four significant figures, thousands separated; scientific outside [0.01, 1e7). '—' for none."""
    if value is None:
        return "—"
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 1e7 or magnitude < 0.01:
        return f"{value:.3e}"
    if magnitude >= 1000:
        return f"{value:,.0f}"
    decimals = max(0, 3 - math.floor(math.log10(magnitude)))
    return f"{value:.{decimals}f}"


def format_published(value: float) -> str:
    """A published figure as printed, no digits added, at most six significant figures beyond its integer
    part (14.8, 1,287, 433,196, 1.44e+08; a measurement file's 225.13903399999998 J shows as 225.139)."""
    magnitude = abs(value)
    if magnitude and (magnitude >= 1e7 or magnitude < 0.01):
        return f"{value:.6g}"
    digits = max(6, math.floor(math.log10(magnitude)) + 1) if magnitude else 1
    return f"{value:,.{digits}g}"


def _cells(row: ValidationRow) -> tuple[str, ...]:
    return (
        row.case,
        row.quantity,
        row.mode,
        format_published(row.published),
        format_number(row.simulated),
        "—" if row.error_pct is None else f"{row.error_pct:+.2f}%",
        "—" if row.tolerance_pct is None else f"±{row.tolerance_pct:g}%",
        row.result,
        row.kind,
    )


def format_markdown(rows: list[ValidationRow]) -> str:
    """The table as Markdown, as the README shows it (deterministic: no timings)."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_cells(r)) + " |" for r in rows]
    return "\n".join(lines)


def format_text(report: ValidationReport, explain: bool = False) -> str:
    """The table for a terminal, then a summary line (and each row's justification with `explain`)."""
    cells = [COLUMNS] + [_cells(r) for r in report.rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    numeric = {3, 4, 5, 6}
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.rjust(w) if i in numeric and n else c.ljust(w)
                               for i, (c, w) in enumerate(zip(row, widths))).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    checks = report.count(PASS) + report.count(FAIL)
    lines.append("")
    lines.append(
        f"{len(report.cases_run)} cases, {checks} checks: {report.count(PASS)} pass, {report.count(FAIL)} fail; "
        f"{report.count(INFO)} physically modelled figures shown beside (info); "
        f"{report.count(NOT_MODELLED)} not modelled yet; {report.count(INCOMPLETE)} with incomplete inputs; "
        f"{report.count(COUNTEREXAMPLE)} counterexample. "
        f"{report.wall_s:.2f} s."
    )
    if report.skipped_slow:
        lines.append(f"--fast: left out {len(report.skipped_slow)} slow cases: {', '.join(report.skipped_slow)}")
    if report.without_scenario:
        lines.append(f"published cases without a scenario yet ({len(report.without_scenario)}): "
                     f"{', '.join(report.without_scenario)}")
    if explain:
        lines.append("")
        lines += [f"{r.case} / {r.quantity} / {r.mode}: {r.why}" for r in report.rows]
    return "\n".join(lines)
