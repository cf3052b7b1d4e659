"""The published table, scenarios/validation/published.toml, read into frozen records and checked.

A case is validated when a scenario file named after its id (`<id>.toml`) lies beside the table and
the case lists checks. Each check compares one published output with one extractor's value from one
variant of the scenario:

    [case.variant.<name>]    a variant: `label`, and `set` / `unset` applied to the scenario before it
                             runs (`set` takes the `--set dotted.key=value` syntax). The variant
                             "published" (the scenario as written) always exists.
    [[case.check]]           output        the `quantity` of one [[case.output]] of the case
                             simulated     an extractor name (sim.validation.extract.EXTRACTORS)
                             variant       default "published"
                             role          "check" (default: pass or fail within `tolerance_pct`),
                                           "model" (the physically modelled figure, shown beside, no verdict),
                                           "not_modelled" (the simulator cannot compute it yet: never a pass),
                                           "incomplete" (the published inputs do not suffice to run it: never
                                           run, never a pass; `why` names what is missing),
                                           "counterexample" (a published figure known to be wrong)
                             tolerance_pct required for role "check"
                             why           one line: why this tolerance (or why no verdict)
                             kind          "physics" or "arithmetic"; default: the case's kind

A case needs a scenario file only when one of its checks runs (every role but "not_modelled" and
"incomplete"). Every problem in the table is reported at once, each with the case id and the check's position.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

from sim.errors import DataFileError, SimInputError
from sim.validation.extract import EXTRACTORS, UNITS

VALIDATION_DIR = Path(__file__).resolve().parents[2] / "scenarios" / "validation"
PUBLISHED_TABLE = VALIDATION_DIR / "published.toml"

KINDS = ("physics", "arithmetic")
ROLES = ("check", "model", "not_modelled", "incomplete", "counterexample")
# roles that are reported without running anything
NOT_RUN = ("not_modelled", "incomplete")
PUBLISHED_VARIANT = "published"
PUBLISHED_LABEL = "as published"


@dataclass(frozen=True)
class PublishedOutput:
    """One published figure, in the source's unit."""

    quantity: str
    value: float
    unit: str
    where: str
    role: str  # "target", "counterexample" or "derived_check" (our arithmetic on published numbers)


@dataclass(frozen=True)
class Variant:
    """The scenario as written ("published"), or with keys removed (`unset`) and overridden (`set`)."""

    name: str
    label: str
    set: tuple[str, ...] = ()
    unset: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    """One row of the validation table."""

    output: str
    simulated: str | None
    variant: str
    role: str
    tolerance_pct: float | None
    why: str
    kind: str


@dataclass(frozen=True)
class Case:
    """A published case: its figures, its scenario file (None when it has none yet) and its checks."""

    id: str
    title: str
    kind: str
    scenario: Path | None
    slow: bool
    outputs: tuple[PublishedOutput, ...]
    variants: tuple[Variant, ...]
    checks: tuple[Check, ...]

    def output(self, quantity: str) -> PublishedOutput:
        return next(o for o in self.outputs if o.quantity == quantity)

    def variant(self, name: str) -> Variant:
        return next(v for v in self.variants if v.name == name)

    @property
    def runs(self) -> bool:
        """Whether any check of the case needs a simulation (and so a scenario file)."""
        return any(c.role not in NOT_RUN for c in self.checks)


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _read_case(raw: dict, position: int, folder: Path, problems: list[str]) -> Case | None:
    case_id = raw.get("id")
    if not isinstance(case_id, str) or not case_id:
        problems.append(f"case {position}: id: expected a non-empty string")
        return None
    where = f"case {case_id}"
    kind = raw.get("kind")
    if kind not in KINDS:
        problems.append(f"{where}: kind = {kind!r}: expected one of {', '.join(KINDS)}")

    outputs = []
    for i, out in enumerate(raw.get("output", [])):
        quantity, value, unit = out.get("quantity"), out.get("value"), out.get("unit")
        if not isinstance(quantity, str) or not _number(value) or not isinstance(unit, str):
            problems.append(f"{where}: output {i}: expected quantity (string), value (number) and unit (string)")
            continue
        outputs.append(PublishedOutput(quantity, float(value), unit, str(out.get("where", "")),
                                       str(out.get("role", "target"))))
    quantities = {o.quantity for o in outputs}

    variants = [Variant(PUBLISHED_VARIANT, PUBLISHED_LABEL)]
    for name, spec in raw.get("variant", {}).items():
        label, sets, unsets = spec.get("label"), spec.get("set", []), spec.get("unset", [])
        if name == PUBLISHED_VARIANT or not isinstance(label, str) or not _strings(sets) or not _strings(unsets):
            problems.append(f"{where}: variant {name!r}: expected a new name, label (string), set and unset (lists of strings)")
            continue
        variants.append(Variant(name, label, tuple(sets), tuple(unsets)))
    variant_names = {v.name for v in variants}

    checks = []
    for i, chk in enumerate(raw.get("check", [])):
        at = f"{where}: check {i}"
        output, simulated = chk.get("output"), chk.get("simulated")
        role = chk.get("role", "check")
        variant = chk.get("variant", PUBLISHED_VARIANT)
        tolerance = chk.get("tolerance_pct")
        why = chk.get("why")
        check_kind = chk.get("kind", kind)
        if output not in quantities:
            problems.append(f"{at}: output = {output!r}: expected one of the case's outputs: {', '.join(sorted(quantities))}")
            continue
        if role not in ROLES:
            problems.append(f"{at}: role = {role!r}: expected one of {', '.join(ROLES)}")
        if variant not in variant_names:
            problems.append(f"{at}: variant = {variant!r}: expected one of {', '.join(sorted(variant_names))}")
        if check_kind not in KINDS:
            problems.append(f"{at}: kind = {check_kind!r}: expected one of {', '.join(KINDS)}")
        if not isinstance(why, str) or not why.strip():
            problems.append(f"{at}: why: expected one line saying why this tolerance (or why no verdict)")
        if role == "check" and not (_number(tolerance) and tolerance > 0):
            problems.append(f"{at}: tolerance_pct = {tolerance!r}: a check needs a tolerance in per cent, > 0")
        if role not in NOT_RUN:
            unit = next(o.unit for o in outputs if o.quantity == output)
            if simulated not in EXTRACTORS:
                problems.append(f"{at}: simulated = {simulated!r}: expected one of {', '.join(sorted(EXTRACTORS))}")
            elif unit not in UNITS or UNITS[unit][0] != EXTRACTORS[simulated].dimension:
                problems.append(
                    f"{at}: output {output!r} is in {unit!r}, which {simulated!r} ({EXTRACTORS[simulated].dimension}) "
                    f"cannot be expressed in"
                )
        checks.append(Check(output, simulated if role not in NOT_RUN else None, variant, role,
                            float(tolerance) if _number(tolerance) else None, str(why or ""), check_kind))

    scenario = folder / f"{case_id}.toml"
    if not scenario.is_file():
        scenario = None
        if any(c.role not in NOT_RUN for c in checks):
            problems.append(f"{where}: has checks but no scenario file {folder / (case_id + '.toml')}")
    slow = raw.get("slow", False)
    if not isinstance(slow, bool):
        problems.append(f"{where}: slow = {slow!r}: expected true or false")
    return Case(case_id, str(raw.get("title", case_id)), str(kind), scenario, bool(slow),
                tuple(outputs), tuple(variants), tuple(checks))


def load_table(path: Path = PUBLISHED_TABLE) -> tuple[Case, ...]:
    """Read and check the published table at `path`; scenario files are looked up beside it."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataFileError(path, "published table not found (give --table PATH)") from None
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(path, f"invalid TOML: {exc}") from None
    problems: list[str] = []
    cases = [c for i, raw in enumerate(data.get("case", [])) if (c := _read_case(raw, i, path.parent, problems))]
    ids = [c.id for c in cases]
    for repeated in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"case {repeated}: the id is used twice")
    for stray in sorted(p for p in path.parent.glob("*.toml") if p != path and p.stem not in ids):
        problems.append(f"{stray.name}: a scenario file that no case of the table names (its stem must be a case id)")
    if problems:
        raise SimInputError([f"{path}: {p}" for p in problems])
    return tuple(cases)
