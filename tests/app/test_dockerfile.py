"""The Dockerfile lints clean, and its start command works in a fresh virtual environment (no Docker engine here)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def dockerfile_env() -> dict[str, str]:
    """ENV lines of the Dockerfile as a dict (KEY=value pairs, backslash continuations)."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    pairs = [pair for line in text.splitlines() if line.startswith("ENV ") for pair in line[4:].split()]
    return dict(pair.split("=", 1) for pair in pairs)


def start_command() -> list[str]:
    return json.loads(re.search(r"^CMD (\[.*\])$", DOCKERFILE.read_text(), re.M).group(1))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_hadolint_passes(hadolint):
    result = subprocess.run([hadolint, "--failure-threshold", "warning", str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_start_command_migrates_and_serves_in_a_fresh_venv(tmp_path, database_url):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # Same steps as the image: a plain (non-editable) install of the project.
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(ROOT)],
                   check=True, timeout=600)
    port = free_port()
    command = [arg if arg != "8000" else str(port) for arg in start_command()]
    command = [str(venv / "bin" / command[0]), *command[1:]]
    command[command.index("0.0.0.0")] = "127.0.0.1"
    env = {**os.environ, **dockerfile_env(), "STATIC_DIR": str(ROOT / "static"), "PATH": f"{venv / 'bin'}:/usr/bin:/bin"}
    env["DATABASE_URL"] = own_database(database_url, tmp_path)
    server = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert wait_ready(f"http://127.0.0.1:{port}/readyz", server), server_output(server)
    finally:
        server.terminate()
        server.wait(timeout=20)


def own_database(suite_url: str, tmp_path: Path) -> str:
    """A database beside the suite's: the image's start records its own (random) key there, not in the suite's."""
    if suite_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'app.db'}"
    import asyncio

    from tests.app.servers import reset_postgres_database

    asyncio.run(reset_postgres_database(f"{suite_url}_dockerfile"))
    return f"{suite_url}_dockerfile"


def wait_ready(url: str, server: subprocess.Popen, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read())["ok"] is True
        except OSError:
            time.sleep(0.3)
    return False


def server_output(server: subprocess.Popen) -> str:
    server.terminate()
    return server.communicate(timeout=20)[0].decode(errors="replace")
