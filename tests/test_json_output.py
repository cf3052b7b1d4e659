"""summary.json: indented JSON, with a long list of records (the jobs of a batch queue) one record per line."""

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.output.rundir import to_json_text

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=12))
records = st.dictionaries(st.text(max_size=8), st.one_of(scalars, st.lists(scalars, max_size=3)), max_size=6)


def finite(value):
    """What the writer makes of a value: non-finite floats become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


@settings(max_examples=60, deadline=None)
@given(jobs=st.lists(records, min_size=0, max_size=150), other=st.dictionaries(st.text(max_size=8), scalars,
                                                                               max_size=5))
def test_the_text_is_the_same_json_value(jobs, other):
    data = {**other, "jobs": jobs, "totals": {"energy_kwh": 1.5, "nan": math.nan}}
    assert json.loads(to_json_text(data)) == finite(data)


def test_a_long_list_of_records_has_one_record_per_line_and_the_rest_is_indented():
    jobs = [{"job": f"gen-{i}", "it_kwh": 1.25 * i, "started_at": None} for i in range(100)]
    text = to_json_text({"name": "batch-queue", "jobs": jobs, "split": {"jobs_kwh": 3.0}})
    lines = text.splitlines()
    assert lines[1] == '  "name": "batch-queue",'
    assert lines[3] == '    {"job": "gen-0", "it_kwh": 0.0, "started_at": null},'
    assert sum(line.lstrip().startswith('{"job"') for line in lines) == 100
    assert '    "jobs_kwh": 3.0' in lines   # short values keep the indented layout
    few = to_json_text({"jobs": jobs[:3]})
    assert few == json.dumps({"jobs": jobs[:3]}, indent=2)
