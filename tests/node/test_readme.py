"""The README's walkthrough, run word for word against a real `kula serve`."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Try it", 1)[1]
    match = re.search(r"```sh\n(.*?)\n```", section, re.DOTALL)
    assert match, "the README's 'Try it' section has no sh block"
    return match.group(1)


@pytest.fixture
def served_node(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    with serving(tmp_path) as (port, _):
        yield tmp_path, port


@contextlib.contextmanager
def serving(tmp_path: Path) -> Iterator[tuple[int, list[str]]]:
    """Run `kula serve` on a fresh data dir; yield its port and the lines of
    its first-login hint."""
    port = free_port()
    kula = str(VENV_BIN / "kula")
    subprocess.run(
        [kula, "init", "--data", "data", "--url", f"http://127.0.0.1:{port}"],
        cwd=tmp_path, check=True, capture_output=True,
    )
    server = subprocess.Popen(
        [kula, "serve", "--data", "data", "--port", str(port)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        # The node prints this line once it is accepting connections, then the hint.
        assert server.stdout is not None
        for line in server.stdout:
            if line.startswith("Kula is serving"):
                break
        else:
            pytest.fail("kula serve exited before it was ready")
        hint = []
        for line in server.stdout:
            hint.append(line.rstrip("\n"))
            if line.startswith("Programs use"):
                break
        yield port, hint
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()


@pytest.mark.timeout(120)
def test_readme_walkthrough_verifies_a_listing(served_node: tuple[Path, int]) -> None:
    workdir, port = served_node
    (workdir / ".venv").symlink_to(VENV_BIN.parent)
    script = walkthrough().replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=workdir, capture_output=True, text=True, timeout=100,
        env={**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"},
    )
    assert result.returncode == 0, result.stderr
    assert f"verified: Cordless drill by http://127.0.0.1:{port}/users/alice" in result.stdout
    results = (workdir / "results.json").read_text()
    assert "Cordless drill" in results
    webfinger = (workdir / "webfinger.json").read_text()
    assert f"acct:alice@127.0.0.1:{port}" in webfinger


def test_tampered_listing_fails_verification(served_node: tuple[Path, int]) -> None:
    workdir, port = served_node
    (workdir / ".venv").symlink_to(VENV_BIN.parent)
    script = walkthrough().replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    # Tamper with the fetched Proposal before the verification step runs.
    tampered = script.replace(
        "# 6. Verify",
        "sed -i 's/Cordless drill/Cordless drilL/' proposal.json\n# 6. Verify",
    )
    assert tampered != script
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", tampered],
        cwd=workdir, capture_output=True, text=True, timeout=100,
    )
    assert result.returncode != 0
    assert "ProofError" in result.stderr or "Proof" in result.stderr


def test_first_login_hint_creates_a_working_operator(tmp_path: Path) -> None:
    with serving(tmp_path) as (port, hint):
        (tmp_path / ".venv").symlink_to(VENV_BIN.parent)
        commands = [line.strip() for line in hint if line.startswith("  ")]
        assert len(commands) == 2, hint
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", "\n".join(commands)],
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )
        assert result.returncode == 0, result.stderr
        token = result.stdout.strip().splitlines()[-1]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/me", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert b'"is_admin": true' in response.read()
        # The hint's browser route: the same operator logs in through the login form.
        login_url = next(word for line in hint for word in line.split() if word.endswith("/login"))
        password = re.search(r"echo '([^']+)'", commands[0])
        assert password is not None
        browser = requests.Session()
        browser.get(login_url, timeout=10)
        answer = browser.post(
            login_url, allow_redirects=False, timeout=10,
            data={"csrf_token": browser.cookies["kula_csrf"], "username": "operator",
                  "password": password.group(1)},
        )
        assert answer.status_code == 303, answer.text
        assert "kula_session" in browser.cookies
        assert browser.get(f"http://127.0.0.1:{port}/admin", timeout=10).status_code == 200

