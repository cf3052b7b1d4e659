"""The HTML report: one well-formed file that embeds its figures and needs no network to open."""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser

import pandas as pd
import pytest

import sim
from helpers import SCENARIOS, run_cli

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class StrictHTML(HTMLParser):
    """Collects tags, image sources and links; records every close tag that does not match its opener."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.images: list[dict] = []
        self.external: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self.doctype = None

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "img":
            self.images.append(attrs)
        for key in ("src", "href"):
            value = attrs.get(key) or ""
            if value and not value.startswith(("data:", "#")):
                self.external.append(value)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(text: str) -> StrictHTML:
    parser = StrictHTML()
    parser.feed(text)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def gpt3_report(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "gpt3"
    sim.run(SCENARIOS / "gpt3.toml", out=run_dir)
    result = run_cli("report", str(run_dir))
    assert result.returncode == 0, result.stderr
    return run_dir, (run_dir / "report.html").read_text(encoding="utf-8")


def test_report_is_well_formed_html(gpt3_report):
    _, text = gpt3_report
    page = parse(text)
    assert page.doctype.lower() == "doctype html"
    assert page.errors == []
    assert page.stack == []  # every element closed
    assert page.tags[:1] == ["html"] and "title" in page.tags and "body" in page.tags


def test_report_embeds_its_figures_as_png_and_fetches_nothing(gpt3_report):
    _, text = gpt3_report
    page = parse(text)
    assert page.external == []  # no network: no external script, style, image or link
    assert "<script" not in text
    alts = [img["alt"] for img in page.images]
    required = ["Facility power by component", "PUE and outdoor temperature", "Carbon intensity and emissions",
                "Energy and carbon per job"]
    assert [alt for alt in alts if alt in required] == required
    for img in page.images:
        prefix = "data:image/png;base64,"
        assert img["src"].startswith(prefix)
        assert base64.b64decode(img["src"][len(prefix):])[:8] == PNG_SIGNATURE


def test_report_holds_the_summary_the_jobs_and_the_resolved_scenario(gpt3_report):
    run_dir, text = gpt3_report
    words = " ".join(parse(text).text)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert "gpt3" in words
    assert f"{summary['facility_energy_kwh'] / 1000:,.0f}" in words  # 1,265 MWh
    assert "MWh" in words and "tCO2e" in words
    assert "gpt3-175b" in words  # the jobs table
    scenario = json.loads((run_dir / "scenario.json").read_text())
    assert json.dumps(scenario, indent=2, sort_keys=True) in words  # the resolved scenario, verbatim
    assert "not drawn for this run" in words.lower() and "requests.parquet" in words


def test_report_of_a_sweep_directory_shows_its_table_and_figures(tmp_path):
    pd.DataFrame({"point": ["a", "b<script>"], "carbon_kg": [3.0, 2.0], "facility_energy_kwh": [10.0, 12.0]}
                 ).to_parquet(tmp_path / "points.parquet")
    path = sim.open_run(tmp_path).report()
    page = parse(path.read_text(encoding="utf-8"))
    assert page.errors == [] and "script" not in page.tags  # names are escaped, never markup
    assert [img["alt"] for img in page.images] == ["Metrics by point", "Pareto scatter"]
    assert "b<script>" in " ".join(page.text)


def test_report_out_option_and_no_temporary_file_left(gpt3_report, tmp_path):
    run_dir, _ = gpt3_report
    target = tmp_path / "share" / "gpt3.html"
    result = run_cli("report", str(run_dir), "--out", str(target))
    assert result.returncode == 0, result.stderr
    assert target.is_file()
    assert [p.name for p in target.parent.iterdir()] == ["gpt3.html"]
