"""README.md's walk-through with Duo's Python client, run as written against the scenario it
serves (on a free port rather than the fixed one it shows, which another run may hold)."""

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[3] / "README.md"


def blocks(text, language):
    return re.findall(r"```" + language + r"\n(.*?)```", text, re.S)


def test_the_python_snippet_runs_against_the_scenario_the_readme_serves(serve):
    text = README.read_text()
    command = next(b for b in blocks(text, "sh") if "--listen 127.0.0.1:" in b)
    found = re.search(r"serve --scenario scenarios/(\S+) --listen 127\.0\.0\.1:(\d+)", command)
    assert found, command
    scenario, port = found.groups()
    snippet = next(b for b in blocks(text, "python") if "duo_client.Admin(" in b)
    assert f"port={port}" in snippet, "the snippet uses the port the command listens on"
    expected = re.search(r"#\s*(\S+)\s*$", snippet, re.M).group(1)

    ready = serve(scenario)
    program = snippet.replace(f"port={port}", f"port={ready['port']}")
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         timeout=60, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == expected
