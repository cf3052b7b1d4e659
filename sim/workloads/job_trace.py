"""Where queued jobs come from: inline [[queue.jobs]], a CSV trace, and a synthetic generator.

TRACE FORMAT (CSV, UTF-8, a header row; one job per row; '#' lines are comments):

    name,submit,gpus,duration,slack,interruptible,kind,compute_bound_fraction
    etl-01,0,16,2h,6h,true,batch,0.3
    pretrain-a,30min,64,8h,,false,training,0.95

- name (required, unique); gpus (required, integer >= 1);
- submit: when the job is submitted, as seconds or a duration with a unit ("30min", "1.5h"); default 0;
- work: `duration` (run time at full clock) or `flop` with `mfu` (duration = flop / (gpus x mfu x the
  accelerator's peak FLOP/s)): exactly one of the two forms per row;
- `slack` (how much later than submit + duration it may finish) or `deadline` (latest finish, as time
  from the start of the run); blank: no slack (the job is not deferrable);
- interruptible: true/false/1/0/yes/no (default false); kind: training or batch (default batch);
- compute_bound_fraction: share of the run time that scales with the GPU clock (default 0.9).
Unknown columns are an error (a misspelt column would otherwise be silently ignored).

GENERATOR: drawn up front, before the simulation starts, on the random stream "job-generator" only, so
every policy compared on the same seed sees the same jobs (common random numbers).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from sim.config.durations import parse_duration_s
from sim.config.queue import GeneratorSection, QueueJobSpec
from sim.errors import DataFileError
from sim.units import S_PER_H

TRACE_COLUMNS = ("name", "submit", "gpus", "duration", "flop", "mfu", "slack", "deadline", "interruptible", "kind",
                 "compute_bound_fraction")
GENERATOR_STREAM = "job-generator"
_TRUE = {"true", "1", "yes", "y"}
_FALSE = {"false", "0", "no", "n", ""}


def _duration(path: Path, line: int, column: str, text: str) -> float:
    try:
        return parse_duration_s(float(text) if _is_number(text) else text)
    except ValueError as exc:
        raise DataFileError(path, f"{column} = {text!r}: {exc}", line) from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _number(path: Path, line: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataFileError(path, f"{column} = {text!r}: expected a number", line) from None
    if not math.isfinite(value):
        raise DataFileError(path, f"{column} = {text!r}: expected a finite number", line)
    return value


def read_trace(path: Path, peak_flop_per_s: float) -> list[QueueJobSpec]:
    """The jobs of a CSV trace (format in the module docstring); DataFileError names the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataFileError(path, f"cannot read the trace: {exc.strerror}") from None
    lines = [(i + 1, row) for i, row in enumerate(text.splitlines()) if row.strip() and not row.lstrip().startswith("#")]
    if not lines:
        raise DataFileError(path, "empty trace: expected a header row and one row per job")
    reader = csv.reader([row for _, row in lines])
    header_line, header = lines[0][0], [h.strip() for h in next(reader)]
    unknown = [h for h in header if h not in TRACE_COLUMNS]
    if unknown:
        raise DataFileError(path, f"unknown column(s) {', '.join(unknown)}; expected among: {', '.join(TRACE_COLUMNS)}",
                            header_line)
    for required in ("name", "gpus"):
        if required not in header:
            raise DataFileError(path, f"missing column {required!r}", header_line)
    if "duration" not in header and "flop" not in header:
        raise DataFileError(path, "missing column 'duration' (or 'flop' with 'mfu')", header_line)
    jobs, names = [], set()
    for (line, _), values in zip(lines[1:], reader):
        if len(values) != len(header):
            raise DataFileError(path, f"{len(values)} fields; the header has {len(header)}", line)
        row = {h: v.strip() for h, v in zip(header, values)}
        fields: dict = {"name": row["name"]}
        if not row["name"]:
            raise DataFileError(path, "name is empty", line)
        if row["name"] in names:
            raise DataFileError(path, f"name {row['name']!r} appears twice", line)
        names.add(row["name"])
        gpus = _number(path, line, "gpus", row["gpus"])
        if gpus != int(gpus) or gpus < 1:
            raise DataFileError(path, f"gpus = {row['gpus']!r}: expected a whole number >= 1", line)
        fields["gpus"] = int(gpus)
        if row.get("submit"):
            fields["submit_at"] = _duration(path, line, "submit", row["submit"])
        has_duration, has_flop = bool(row.get("duration")), bool(row.get("flop"))
        if has_duration == has_flop:
            raise DataFileError(path, "give exactly one of duration or flop (with mfu)", line)
        if has_duration:
            fields["duration"] = _duration(path, line, "duration", row["duration"])
        else:
            if not row.get("mfu"):
                raise DataFileError(path, "flop needs mfu (model FLOP utilisation) to give a run time", line)
            mfu = _number(path, line, "mfu", row["mfu"])
            if not 0 < mfu <= 1:
                raise DataFileError(path, f"mfu = {row['mfu']!r}: expected a number in (0, 1]", line)
            fields["duration"] = _number(path, line, "flop", row["flop"]) / (fields["gpus"] * mfu * peak_flop_per_s)
        if row.get("slack"):
            fields["slack"] = _duration(path, line, "slack", row["slack"])
        if row.get("deadline"):
            fields["deadline"] = _duration(path, line, "deadline", row["deadline"])
        flag = row.get("interruptible", "").lower()
        if flag not in _TRUE | _FALSE:
            raise DataFileError(path, f"interruptible = {row['interruptible']!r}: expected true or false", line)
        fields["interruptible"] = flag in _TRUE
        if row.get("kind"):
            fields["kind"] = row["kind"]
        if row.get("compute_bound_fraction"):
            fields["compute_bound_fraction"] = _number(path, line, "compute_bound_fraction", row["compute_bound_fraction"])
        try:
            jobs.append(QueueJobSpec(**fields))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'row'}: {e['msg']}" for e in exc.errors())
            raise DataFileError(path, problems, line) from None
    return jobs


def generate_jobs(gen: GeneratorSection, rng: np.random.Generator) -> list[QueueJobSpec]:
    """Synthetic jobs (rules in GeneratorSection's docstring), drawn from `rng` in a fixed order."""
    jobs: list[QueueJobSpec] = []
    t_s = gen.start
    end_s = gen.start + gen.span
    mean_gap_s = S_PER_H / gen.rate_per_h
    weights = np.asarray(gen.gpus_weights if gen.gpus_weights is not None else [1.0] * len(gen.gpus), dtype=float)
    weights = weights / weights.sum()
    index = 0
    while True:
        t_s += rng.exponential(mean_gap_s)
        if t_s >= end_s:
            break
        gpus = int(gen.gpus[int(rng.choice(len(gen.gpus), p=weights))])
        duration_s = gen.duration_median * math.exp(gen.duration_sigma * rng.standard_normal())
        deferrable = rng.random() < gen.deferrable_share
        slack_s = rng.uniform(gen.slack_min, gen.slack_max) if gen.slack_max > gen.slack_min else gen.slack_min
        interruptible = rng.random() < gen.interruptible_share
        compute_bound = rng.uniform(gen.compute_bound_min, gen.compute_bound_max)
        training = rng.random() < gen.training_share
        index += 1
        jobs.append(QueueJobSpec(
            name=f"{gen.name_prefix}-{index:04d}", kind="training" if training else "batch", gpus=gpus,
            submit_at=t_s, duration=duration_s, slack=slack_s if deferrable else None,
            interruptible=bool(deferrable and interruptible), compute_bound_fraction=compute_bound,
        ))
    return jobs


def queue_job_specs(scenario, streams, peak_flop_per_s: float) -> list[QueueJobSpec]:
    """Every queued job of a scenario: inline, then the trace's, then the generated ones."""
    queue = scenario.queue
    jobs = list(queue.jobs)
    if queue.trace is not None:
        jobs += read_trace(queue.trace, peak_flop_per_s)
    if queue.generator is not None:
        jobs += generate_jobs(queue.generator, streams.generator(GENERATOR_STREAM))
    return jobs
