"""The ``kula`` command line, driven in-process through ``node.cli.main`` and,
for the backup of a node that is serving, as a real subprocess."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sqlite3
import sys
import tarfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from conftest import TEST_PASSWORD
from helpers import listing_body, png_bytes

from node.app import create_app
from node.cli import main
from node.errors import Unauthorized
from node.services import accounts, images, listings, tokens
from node.services.context import NodeContext
from node.settings import CONFIG_FILENAME, load_settings
from node.storage import create_storage
from node.typedefs import context_key

KULA = Path(sys.executable).parent / "kula"
URL = "http://127.0.0.1:8080"


@pytest.fixture(autouse=True)
def keep_umask() -> Iterator[None]:
    """``main`` tightens the process umask; give the other tests theirs back."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield
    os.umask(previous)


def kula(*args: str | Path, stdin: str | None = None,
         monkeypatch: pytest.MonkeyPatch | None = None) -> int:
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main([str(arg) for arg in args])


def with_node(data_dir: Path, use: Callable[[NodeContext], Awaitable[Any]]) -> Any:
    """Run ``use`` against the node's storage, as the CLI would."""

    async def run() -> Any:
        settings = load_settings(data_dir, {})
        storage = create_storage(settings)
        await storage.open()
        try:
            return await use(NodeContext(settings=settings, storage=storage))
        finally:
            await storage.close()

    return asyncio.run(run())


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "node"
    assert kula("init", "--data", path, "--url", URL, "--registration", "open") == 0
    return path


# --- init -------------------------------------------------------------------------------


@pytest.mark.spec("Kula CLI: init")
def test_init_public_node(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "public"
    code = kula("init", "--data", path, "--url", "https://tools.example.org/", "--name",
                "Tool library")
    assert code == 0
    out = capsys.readouterr().out
    assert "Initialised 'Tool library'" in out and "development" not in out
    settings = load_settings(path, {})
    assert settings.url == "https://tools.example.org" and settings.development is False
    assert settings.registration == "invite"
    assert (path / CONFIG_FILENAME).stat().st_mode & 0o777 == 0o600
    assert path.stat().st_mode & 0o777 == 0o700
    assert settings.media_dir.is_dir()

    async def node_keys(ctx: NodeContext) -> list[str]:
        async with ctx.storage.read() as session:
            return [name for name in ("instance", "community")
                    if await session.get_node_keys(name) is not None]

    assert with_node(path, node_keys) == ["instance", "community"]


@pytest.mark.spec("Kula CLI: init")
def test_init_local_node_is_development(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert load_settings(data_dir, {}).development is True


@pytest.mark.spec("Kula CLI: init")
@pytest.mark.parametrize(
    "url", ["ftp://tools.example.org", "https://tools.example.org/kula", "tools.example.org",
            "https://tools.example.org/?q=1", "https://"],
)
def test_init_refuses_bad_urls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    path = tmp_path / "node"
    assert kula("init", "--data", path, "--url", url) == 2
    assert "kula: url" in capsys.readouterr().err
    assert not path.exists()


@pytest.mark.spec("Kula CLI: init")
def test_init_refuses_to_reinitialise(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = (data_dir / CONFIG_FILENAME).read_text()
    capsys.readouterr()
    assert kula("init", "--data", data_dir, "--url", "https://other.example.org") == 2
    assert "already exists" in capsys.readouterr().err
    assert (data_dir / CONFIG_FILENAME).read_text() == config


@pytest.mark.spec("Kula CLI")
def test_commands_need_a_data_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KULA_DATA", raising=False)
    assert kula("migrate") == 2
    assert "--data" in capsys.readouterr().err
    assert kula("migrate", "--data", tmp_path / "nothing") == 2
    assert "no configuration" in capsys.readouterr().err


# --- members, tokens, invites -----------------------------------------------------------


@pytest.mark.spec("Kula CLI: member")
def test_member_create_with_password_on_stdin(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code = kula("member", "create", "alice", "--admin", "--display-name", "Alice",
                "--password-stdin", "--data", data_dir, stdin=TEST_PASSWORD + "\n",
                monkeypatch=monkeypatch)
    assert code == 0
    assert f"created member alice ({URL}/users/alice)" in capsys.readouterr().out

    async def login(ctx: NodeContext) -> tuple[str, bool]:
        member = await accounts.authenticate(ctx, "alice", TEST_PASSWORD)
        return member.display_name, member.is_admin

    assert with_node(data_dir, login) == ("Alice", True)
    for name, stdin, message in [
        ("alice", TEST_PASSWORD, "taken"),
        ("admin", TEST_PASSWORD, "reserved"),
        ("Bob", TEST_PASSWORD, "lowercase"),
        ("bob", "short", "password must be"),
        ("bob", "\n", "no password"),
    ]:
        code = kula("member", "create", name, "--password-stdin", "--data", data_dir,
                    stdin=stdin, monkeypatch=monkeypatch)
        assert code == 2
        assert message in capsys.readouterr().err
    assert kula("member", "list", "--data", data_dir) == 0
    assert capsys.readouterr().out == "alice\tAlice\tadmin\n"


@pytest.mark.spec("Kula CLI: member")
def test_member_suspend_and_unsuspend(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kula("member", "create", "alice", "--data", data_dir) == 0
    assert kula("member", "suspend", "alice", "--data", data_dir) == 0
    assert "alice is suspended" in capsys.readouterr().out
    assert kula("member", "list", "--data", data_dir) == 0
    assert capsys.readouterr().out == "alice\talice\tsuspended\n"
    assert kula("member", "unsuspend", "alice", "--data", data_dir) == 0
    assert kula("member", "suspend", "nobody", "--data", data_dir) == 2
    assert "no member named 'nobody'" in capsys.readouterr().err


@pytest.mark.spec("Kula CLI: token")
def test_token_create_list_revoke(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kula("member", "create", "alice", "--data", data_dir) == 0
    capsys.readouterr()
    assert kula("token", "create", "alice", "--scope", "read", "--label", "phone",
                "--data", data_dir) == 0
    secret = capsys.readouterr().out.strip()
    assert secret.startswith("kula_") and "\n" not in secret

    async def check(ctx: NodeContext) -> tuple[str, str]:
        principal = await tokens.authenticate_token(ctx, secret)
        return principal.member.username, principal.token.scope

    assert with_node(data_dir, check) == ("alice", "read")
    assert kula("token", "list", "alice", "--data", data_dir) == 0
    [line] = capsys.readouterr().out.splitlines()
    token_id, label, scope, state, _ = line.split("\t")
    assert (label, scope, state) == ("phone", "read", "active")
    assert kula("token", "revoke", "alice", token_id, "--data", data_dir) == 0
    assert kula("token", "list", "alice", "--data", data_dir) == 0
    assert "\trevoked\t" in capsys.readouterr().out
    assert with_node(data_dir, lambda ctx: _refused(tokens.authenticate_token(ctx, secret)))
    assert kula("token", "revoke", "alice", "01aaaaaaaaaaaaaaaaaaaaaaaa", "--data",
                data_dir) == 2
    assert kula("token", "create", "alice", "--scope", "admin", "--data", data_dir) == 2
    assert "administrators" in capsys.readouterr().err
    assert kula("token", "create", "nobody", "--data", data_dir) == 2


async def _refused(attempt: Awaitable[object]) -> bool:
    try:
        await attempt
    except Unauthorized:
        return True
    return False


@pytest.mark.spec("Kula CLI: invite")
def test_invite_create_list_revoke(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kula("invite", "create", "--uses", "3", "--days", "2", "--note", "bakery",
                "--data", data_dir) == 0
    code = capsys.readouterr().out.strip()
    assert code.startswith("invite_")
    assert kula("invite", "list", "--data", data_dir) == 0
    [entry] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (entry["uses"], entry["max_uses"], entry["note"], entry["revoked"]) == (
        0, 3, "bakery", False)

    async def register(ctx: NodeContext) -> str:
        member = await accounts.create_member(ctx, "carol", password=TEST_PASSWORD,
                                              invite_code=code)
        return member.username

    assert with_node(data_dir, register) == "carol"
    assert kula("invite", "revoke", entry["id"], "--data", data_dir) == 0
    assert capsys.readouterr().out == f"revoked {entry['id']}\n"
    assert kula("invite", "list", "--data", data_dir) == 0
    entry = json.loads(capsys.readouterr().out)
    assert (entry["uses"], entry["revoked"]) == (1, True)
    assert kula("invite", "revoke", entry["id"], "--data", data_dir) == 2
    assert kula("invite", "create", "--uses", "0", "--data", data_dir) == 2
    assert "max_uses" in capsys.readouterr().err


@pytest.mark.spec("Kula CLI: migrate")
def test_migrate_is_repeatable(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert kula("migrate", "--data", data_dir) == 0
    first = capsys.readouterr().out
    assert first.startswith("database schema is at version ")
    assert kula("migrate", "--data", data_dir) == 0
    assert capsys.readouterr().out == first


# --- backup and restore -----------------------------------------------------------------


@pytest.mark.spec("Kula CLI: backup")
async def test_backup_of_a_serving_node_restores_elsewhere(
    tmp_path: Path, aiohttp_client: Callable[[web.Application], Awaitable[TestClient]]
) -> None:
    data_dir = tmp_path / "node"
    assert await asyncio.to_thread(
        main, ["init", "--data", str(data_dir), "--url", URL, "--registration", "open"]
    ) == 0
    client = await aiohttp_client(create_app(load_settings(data_dir, {}), run_workers=False))
    ctx = client.app[context_key]
    alice = await accounts.create_member(ctx, "alice", password=TEST_PASSWORD)
    picture = await images.store_image(ctx, alice, png_bytes())
    listing = await listings.create_listing(
        ctx, alice, listing_body(title="Backed-up drill", images=[picture.id])
    )
    archive = tmp_path / "backups" / "kula.tar.gz"
    process = await asyncio.create_subprocess_exec(
        str(KULA), "backup", "--data", str(data_dir), "--output", str(archive),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert b"backup written to" in out
    # The node kept serving throughout.
    response = await client.get(f"/listings/{listing.id}")
    assert response.status == 200

    fresh = tmp_path / "restored"
    assert await asyncio.to_thread(main, ["restore", str(archive), "--data", str(fresh)]) == 0
    connection = sqlite3.connect(fresh / "kula.sqlite3")
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        titles = connection.execute("SELECT title FROM listings").fetchall()
    finally:
        connection.close()
    assert titles == [("Backed-up drill",)]
    assert (fresh / "media" / picture.filename).is_file()
    restored = await aiohttp_client(create_app(load_settings(fresh, {}), run_workers=False))
    response = await restored.get(f"/api/v1/listings/{listing.id}")
    assert response.status == 200
    assert (await response.json())["title"] == "Backed-up drill"
    # A second restore over a database needs --force.
    assert await asyncio.to_thread(main, ["restore", str(archive), "--data", str(fresh)]) == 2


def tar_gz(path: Path, members: dict[str, bytes], *, links: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return path


@pytest.fixture
def good_backup(data_dir: Path, tmp_path: Path) -> Path:
    archive = tmp_path / "good.tar.gz"
    assert kula("backup", "--data", data_dir, "--output", archive) == 0
    return archive


@pytest.mark.spec("Kula CLI: restore")
def test_restore_refuses_damaged_archives(
    tmp_path: Path, good_backup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = good_backup.read_bytes()
    flipped = bytearray(data)
    for offset in range(len(data) // 3, len(data) // 3 + 64):
        flipped[offset] ^= 0xFF
    with tarfile.open(good_backup) as archive:
        manifest = archive.extractfile("manifest.json").read()  # type: ignore[union-attr]
        config = archive.extractfile(CONFIG_FILENAME).read()  # type: ignore[union-attr]
    cases = {
        "truncated": data[: len(data) // 2],
        "flipped": bytes(flipped),
        "not-gzip": b"PK\x03\x04 this is a zip file",
        "empty": b"",
    }
    archives = {name: tmp_path / f"{name}.tar.gz" for name in cases}
    for name, content in cases.items():
        archives[name].write_bytes(content)
    archives["no-manifest"] = tar_gz(tmp_path / "plain.tar.gz", {"notes.txt": b"hello"})
    archives["bad-format"] = tar_gz(tmp_path / "format.tar.gz", {
        "manifest.json": b'{"format": 99}', "kula.sqlite3": b"", CONFIG_FILENAME: config})
    archives["garbage-db"] = tar_gz(tmp_path / "garbage.tar.gz", {
        "manifest.json": manifest, "kula.sqlite3": b"SQLite format 3\x00" + b"\x07" * 4096,
        CONFIG_FILENAME: config})
    archives["no-config"] = tar_gz(tmp_path / "noconfig.tar.gz", {
        "manifest.json": manifest, "kula.sqlite3": b""})
    for name, archive in archives.items():
        target = tmp_path / f"restore-{name}"
        capsys.readouterr()
        assert kula("restore", archive, "--data", target) == 2, name
        assert capsys.readouterr().err.startswith("kula: "), name
        assert not (target / "kula.sqlite3").exists(), name
        assert not (target / CONFIG_FILENAME).exists(), name
    assert kula("restore", tmp_path / "missing.tar.gz", "--data", tmp_path / "x") == 2


@pytest.mark.spec("Kula CLI: restore")
def test_restore_refuses_path_traversal(
    tmp_path: Path, good_backup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with tarfile.open(good_backup) as archive:
        contents = {
            member.name: archive.extractfile(member).read()  # type: ignore[union-attr]
            for member in archive.getmembers() if member.isfile()
        }
    outside = tmp_path / "outside"
    for name, archive in {
        "dotdot": tar_gz(tmp_path / "dotdot.tar.gz", {**contents, "../outside": b"x"}),
        "nested": tar_gz(tmp_path / "nested.tar.gz",
                         {**contents, "media/../../../outside": b"x"}),
        "symlink": tar_gz(tmp_path / "link.tar.gz", contents,
                          links={"media/escape": str(outside)}),
    }.items():
        target = tmp_path / f"restore-{name}"
        assert kula("restore", archive, "--data", target) == 2, name
        assert "not a readable Kula backup" in capsys.readouterr().err
        assert not outside.exists(), name
        assert not (target / "kula.sqlite3").exists(), name
