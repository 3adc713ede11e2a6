"""Settings: the configuration file, KULA_* overrides, validation messages,
and insecure settings refused outside development mode."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from node.errors import ConfigError
from node.settings import (
    CONFIG_FILENAME,
    Settings,
    load_settings,
    render_config,
    settings_from_mapping,
    with_overrides,
)

PUBLIC = {"url": "https://tools.example.org"}


def write_config(data_dir: Path, text: str) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / CONFIG_FILENAME).write_text(text, encoding="utf-8")
    return data_dir


def refused(data_dir: Path, raw: dict, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as raised:
        settings_from_mapping(data_dir, raw, environ or {})
    return raised.value.detail


@pytest.mark.spec("Kula settings: file")
def test_file_values_are_read_and_typed(tmp_path: Path) -> None:
    data_dir = write_config(tmp_path / "node", render_config({
        "url": "https://tools.example.org", "name": 'The "Tool" Library \\ Co-op',
        "registration": "open", "port": 9000, "run_workers": False,
    }))
    settings = load_settings(data_dir, {})
    assert settings.name == 'The "Tool" Library \\ Co-op'
    assert (settings.port, settings.run_workers, settings.registration) == (9000, False, "open")
    assert settings.data_dir == data_dir.resolve()
    assert settings.database_path == data_dir.resolve() / "kula.sqlite3"
    assert settings.media_dir == data_dir.resolve() / "media"
    assert settings.public_host == "tools.example.org" and settings.uses_https


@pytest.mark.spec("Kula settings: file")
def test_data_dir_is_resolved_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(tmp_path / "node", render_config(PUBLIC))
    monkeypatch.chdir(tmp_path)
    settings = load_settings(Path("node"), {})
    assert settings.data_dir.is_absolute()
    monkeypatch.chdir("/")
    assert settings.database_path == tmp_path.resolve() / "node" / "kula.sqlite3"


@pytest.mark.spec("Kula settings: environment")
def test_environment_overrides_the_file(tmp_path: Path) -> None:
    data_dir = write_config(tmp_path / "node", render_config({**PUBLIC, "port": 9000}))
    settings = load_settings(data_dir, {
        "KULA_PORT": "9100",
        "KULA_REGISTRATION": "closed",
        "KULA_RUN_WORKERS": "off",
        "KULA_NAME": "From the environment",
        "KULA_DATA": "/somewhere/else",  # names the data directory, not a setting
        "HOME": "/root",
    })
    assert (settings.port, settings.registration) == (9100, "closed")
    assert settings.run_workers is False and settings.name == "From the environment"


@pytest.mark.spec("Kula settings: environment")
@pytest.mark.parametrize(("text", "value"), [("1", True), ("YES", True), (" on ", True),
                                             ("0", False), ("false", False), ("No", False)])
def test_boolean_spellings(tmp_path: Path, text: str, value: bool) -> None:
    settings = settings_from_mapping(tmp_path, PUBLIC, {"KULA_RUN_WORKERS": text})
    assert settings.run_workers is value


@pytest.mark.spec("Kula settings: validation")
def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no configuration at .*kula init"):
        load_settings(tmp_path / "empty", {})
    write_config(tmp_path / "broken", 'url = "https://x.example\n')
    with pytest.raises(ConfigError, match=CONFIG_FILENAME):
        load_settings(tmp_path / "broken", {})
    (tmp_path / "binary").mkdir()
    (tmp_path / "binary" / CONFIG_FILENAME).write_bytes(b"url = '\xff'")
    with pytest.raises(ConfigError):
        load_settings(tmp_path / "binary", {})


@pytest.mark.spec("Kula settings: validation")
@pytest.mark.parametrize(
    ("raw", "environ", "message"),
    [
        ({}, {}, "setting 'url'"),
        ({**PUBLIC, "colour": "blue"}, {}, "unknown setting 'colour'"),
        ({**PUBLIC, "data_dir": "/tmp"}, {}, "unknown setting 'data_dir'"),
        (PUBLIC, {"KULA_COLOUR": "blue"}, "KULA_COLOUR"),
        ({**PUBLIC, "port": "eighty"}, {}, "port: expected an integer"),
        ({**PUBLIC, "port": True}, {}, "port: expected an integer"),
        (PUBLIC, {"KULA_PORT": "8o"}, "KULA_PORT: expected an integer"),
        ({**PUBLIC, "development": "maybe"}, {}, "development: expected true or false"),
        ({**PUBLIC, "name": ["a"]}, {}, "name: expected text"),
        ({**PUBLIC, "port": 0}, {}, "port"),
        ({**PUBLIC, "port": 65536}, {}, "port"),
        ({**PUBLIC, "registration": "sometimes"}, {}, "registration: must be one of"),
        ({**PUBLIC, "federation": "closed"}, {}, "federation: must be one of"),
        ({**PUBLIC, "log_format": "xml"}, {}, "log_format"),
        ({**PUBLIC, "log_level": "LOUD"}, {}, "log_level"),
        ({**PUBLIC, "max_body_bytes": 0}, {}, "max_body_bytes: must be positive"),
        ({**PUBLIC, "max_image_bytes": -1}, {}, "max_image_bytes: must be positive"),
        ({**PUBLIC, "rate_limit_auth_per_minute": 0}, {}, "rate_limit_auth_per_minute"),
        ({**PUBLIC, "rate_limit_write_per_minute": -5}, {}, "rate_limit_write_per_minute"),
        ({**PUBLIC, "community_handle": "The Group"}, {}, "community_handle"),
        ({**PUBLIC, "database_url": "mysql://db/kula"}, {}, "database_url"),
        ({"url": "ftp://tools.example.org"}, {}, "url: must be an absolute http(s) URL"),
        ({"url": "tools.example.org"}, {}, "url: must be an absolute http(s) URL"),
        ({"url": "https://"}, {}, "url: must be an absolute http(s) URL"),
        ({"url": "https://tools.example.org/kula"}, {}, "url: must be the site root"),
        ({"url": "https://tools.example.org/?x=1"}, {}, "url: must be the site root"),
        ({"url": "https://tools.example.org/#top"}, {}, "url: must be the site root"),
    ],
)
def test_invalid_settings_are_explained(
    tmp_path: Path, raw: dict, environ: dict[str, str], message: str
) -> None:
    assert message in refused(tmp_path, raw, environ)


@pytest.mark.spec("Kula settings: security")
@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"url": "http://tools.example.org"}, "must use https"),
        ({"url": "https://localhost"}, "loopback or private"),
        ({"url": "https://kula.localhost"}, "loopback or private"),
        ({"url": "https://127.0.0.1:8443"}, "loopback or private"),
        ({"url": "https://10.1.2.3"}, "loopback or private"),
        ({"url": "https://192.168.0.5"}, "loopback or private"),
        ({"url": "https://[::1]"}, "loopback or private"),
        ({"url": "https://169.254.0.1"}, "loopback or private"),
        ({**PUBLIC, "allow_private_network": True}, "allow_private_network"),
    ],
)
def test_insecure_settings_need_development_mode(
    tmp_path: Path, raw: dict, message: str
) -> None:
    assert message in refused(tmp_path, raw)
    # The same settings are accepted for a development node.
    settings = settings_from_mapping(tmp_path, {**raw, "development": True}, {})
    assert settings.development is True


@pytest.mark.spec("Kula settings: security")
def test_development_cannot_be_smuggled_past_by_environment(tmp_path: Path) -> None:
    raw = {"url": "http://tools.example.org", "development": True}
    message = refused(tmp_path, raw, {"KULA_DEVELOPMENT": "false"})
    assert "must use https" in message


@pytest.mark.spec("Kula settings: overrides")
def test_command_line_overrides_are_checked(tmp_path: Path) -> None:
    settings = settings_from_mapping(tmp_path, PUBLIC, {})
    assert with_overrides(settings, host="0.0.0.0", port=None).port == settings.port
    with pytest.raises(ConfigError, match="port"):
        with_overrides(settings, port=70000)


@pytest.mark.spec("Kula settings: file")
def test_rendered_config_round_trips(tmp_path: Path) -> None:
    values: dict[str, object] = {
        "url": "https://tools.example.org", "name": 'Quote " and back\\slash',
        "development": False, "port": 8443,
    }
    assert tomllib.loads(render_config(values)) == values
    settings = settings_from_mapping(tmp_path, tomllib.loads(render_config(values)), {})
    assert isinstance(settings, Settings) and settings.name == values["name"]
