"""The README runs as written: every `python -m sim` command of its bash blocks and every Python block,
in the order a newcomer meets them, in a fresh folder beside the shipped scenarios."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from helpers import REPO

README = REPO / "README.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
SIM_COMMAND = re.compile(r"^(?:\.venv/bin/)?python3? -m sim(?:\s|$)")


def readme_steps() -> list[tuple[str, str]]:
    """("bash", one sim command) and ("python", one block), in document order."""
    steps = []
    for language, body in BLOCK.findall(README.read_text(encoding="utf-8")):
        if language == "python":
            steps.append(("python", body))
        elif language == "bash":
            for line in body.replace("\\\n", " ").splitlines():
                code = re.sub(r"(^|\s)#.*$", "", line).strip()  # a trailing comment is not a command
                for segment in (part.strip() for part in code.split("&&")):
                    if SIM_COMMAND.match(segment):
                        steps.append(("bash", segment))
    return steps


def test_the_readme_has_the_steps_a_newcomer_needs():
    steps = readme_steps()
    commands = [text for kind, text in steps if kind == "bash"]
    assert commands[0] == ".venv/bin/python -m sim scenarios/gpt3.toml"  # the first command at the top
    assert any("cluster.node=" in c for c in commands)  # change the GPU type
    assert any(" plot " in c for c in commands) and any(" report " in c for c in commands)
    assert any("sim.run(" in text for kind, text in steps if kind == "python")


def test_the_readme_runs_as_written(tmp_path):
    (tmp_path / "scenarios").symlink_to(REPO / "scenarios", target_is_directory=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    python = shlex.quote(sys.executable)
    for kind, text in readme_steps():
        if kind == "bash":
            command = SIM_COMMAND.sub(f"{python} -m sim ", text, count=1)
            result = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True,
                                    text=True, timeout=600)
        else:
            result = subprocess.run([sys.executable, "-c", text], cwd=tmp_path, env=env, capture_output=True,
                                    text=True, timeout=600)
        assert result.returncode == 0, f"README step failed:\n{text}\n--- stderr ---\n{result.stderr}"
    assert (tmp_path / "outputs" / "gpt3" / "report.html").is_file()
    assert (tmp_path / "outputs" / "gpt3-api" / "report.html").is_file()
    drawn = {p.name for p in (tmp_path / "outputs" / "gpt3" / "figures").iterdir()}
    assert {"carbon.png", "facility_power.png", "jobs.png", "pue_weather.png"} <= drawn
