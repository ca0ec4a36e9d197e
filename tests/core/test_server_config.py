"""Server defaults for a classroom: local only, XSRF protection on, small uploads, no telemetry, no
tracebacks in the browser; ``make run`` binds to this computer and ``make serve-lan`` opens it to the
network. Checked in the file and, better, as Streamlit itself resolves them for ``streamlit run``
(config file + the Makefile's command-line flags), in a clean process with no personal config."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OPTIONS = ("server.address", "server.enableXsrfProtection", "server.enableCORS", "server.maxUploadSize",
           "browser.gatherUsageStats", "client.showErrorDetails", "server.headless", "server.fileWatcherType")

RESOLVE = """
import json, sys
from streamlit import config
flags = json.loads(sys.argv[1])
config.get_config_options(force_reparse=True, options_from_flags=flags)
print(json.dumps({name: config.get_option(name) for name in json.loads(sys.argv[2])}))
"""


def make_recipe(target: str) -> str:
    """The command line of a Makefile target (the first recipe line that runs streamlit)."""
    text = (REPO / "Makefile").read_text()
    match = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert match, f"no {target} target in the Makefile"
    return next(line.strip() for line in match.group(1).splitlines() if "streamlit run" in line)


def flags_of(command: str) -> dict[str, str]:
    """``--section.option value`` pairs of a streamlit command line (make variables left out)."""
    return {name: value for name, value in re.findall(r"--([a-zA-Z]+\.[a-zA-Z]+)[ =](\S+)", command)
            if "$(" not in value}


def resolved(flags: dict[str, str], tmp_path: Path) -> dict:
    """The options as ``streamlit run`` would use them, from the repository, with an empty home."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("STREAMLIT_")}
    env["HOME"] = str(tmp_path)  # no ~/.streamlit/config.toml of the person running the tests
    completed = subprocess.run([sys.executable, "-c", RESOLVE, json.dumps(flags), json.dumps(OPTIONS)], cwd=REPO,
                               env=env, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def check_hardened(options: dict) -> None:
    assert options["server.enableXsrfProtection"] is True
    assert 1 <= options["server.maxUploadSize"] <= 10  # MB
    assert options["browser.gatherUsageStats"] is False
    assert options["client.showErrorDetails"] not in ("full", True, "stacktrace")
    assert options["server.fileWatcherType"] == "none"


def test_config_file_sets_the_classroom_defaults():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["maxUploadSize"] <= 10
    assert config["server"]["address"] == "localhost"
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] != "full"


def test_make_run_serves_this_computer_only(tmp_path):
    flags = flags_of(make_recipe("run"))
    assert flags["server.address"] in ("localhost", "127.0.0.1")
    options = resolved(flags, tmp_path)
    assert options["server.address"] in ("localhost", "127.0.0.1")
    check_hardened(options)


def test_make_serve_lan_opens_to_the_network_with_the_same_guards(tmp_path):
    flags = flags_of(make_recipe("serve-lan"))
    assert flags["server.address"] == "0.0.0.0"
    options = resolved(flags, tmp_path)
    assert options["server.address"] == "0.0.0.0"
    check_hardened(options)


def test_without_flags_the_file_alone_keeps_it_local(tmp_path):
    options = resolved({}, tmp_path)
    assert options["server.address"] == "localhost"
    check_hardened(options)


@pytest.mark.parametrize("command, expected", [
    ("$(BIN)/streamlit run app.py --server.address localhost --server.port $(PORT)", {"server.address": "localhost"}),
    ("streamlit run app.py --server.address=0.0.0.0", {"server.address": "0.0.0.0"}),
])
def test_flag_reading(command, expected):
    assert flags_of(command) == expected
