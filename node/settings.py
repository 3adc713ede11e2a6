"""Typed node settings: loaded from ``kula.toml`` in the data directory, then
overridden by ``KULA_*`` environment variables, then checked as a whole.

Everything the node reads from disk is located relative to the data directory
given on the command line, never relative to the working directory.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from node.errors import ConfigError

CONFIG_FILENAME = "kula.toml"
REGISTRATION_MODES = ("open", "invite", "closed")
FEDERATION_MODES = ("open", "allowlist")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_HANDLE = re.compile(r"^[a-z0-9_]{1,30}$")


@dataclass(frozen=True)
class Settings:
    """Every setting a node runs with. Field docs double as the operator reference."""

    #: Directory holding the configuration, database, media and keys.
    data_dir: Path
    #: Public base URL of the node, e.g. ``https://tools.example.org``. Object IRIs derive from it.
    url: str
    #: Human name of the community.
    name: str = "Kula community"
    #: Short description shown on the community actor and NodeInfo.
    description: str = ""
    #: ``open``, ``invite`` (invite codes) or ``closed``.
    registration: str = "invite"
    #: ``open`` federation or ``allowlist`` (only listed hosts).
    federation: str = "open"
    host: str = "127.0.0.1"
    port: int = 8080
    #: ``sqlite`` (default, file in the data directory) or a ``postgresql://`` URL.
    database_url: str = ""
    #: Development mode relaxes checks that protect a public node (plain http, loopback URLs).
    development: bool = False
    #: Lets the node federate with loopback and private addresses (development and tests only).
    allow_private_network: bool = False
    #: Run delivery and inbox workers inside ``kula serve``.
    run_workers: bool = True
    log_level: str = "INFO"
    #: ``json`` for structured logs, ``text`` for people at a terminal.
    log_format: str = "json"
    #: Largest accepted request body for JSON endpoints, in bytes.
    max_body_bytes: int = 256 * 1024
    #: Largest accepted image upload, in bytes.
    max_image_bytes: int = 10 * 1024 * 1024
    #: Allowed clock skew for signed requests, in seconds.
    signature_max_skew: int = 300
    #: Requests per minute allowed per client for login and registration.
    rate_limit_auth_per_minute: int = 10
    #: Requests per minute allowed per client for writes.
    rate_limit_write_per_minute: int = 120
    #: HTTP signatures on deliveries: ``cavage`` (draft-cavage-12 rsa-sha256, what the
    #: fediverse accepts) or ``rfc9421`` (RFC 9421 ed25519, for peers that support it).
    delivery_signature_scheme: str = "cavage"
    #: Require signed fetches (authorized fetch) for this node's ActivityPub documents,
    #: so blocked hosts cannot read them.
    authorized_fetch: bool = False
    #: Reputation: age at which a rating counts half as much (protocol/SPEC.md "Reputation").
    reputation_half_life_days: int = 365
    #: Reputation: EigenTrust restart probability towards this node's members (0 to 1).
    reputation_restart_probability: float = 0.15
    #: Name of the community's Group actor (``/users/<community_handle>`` is reserved for it).
    community_handle: str = "community"
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def public_host(self) -> str:
        """Host (with port when not default) that appears in handles and IRIs."""
        return urlsplit(self.url).netloc

    @property
    def database_path(self) -> Path:
        return self.data_dir / "kula.sqlite3"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def uses_https(self) -> bool:
        return urlsplit(self.url).scheme == "https"


_ENV_PREFIX = "KULA_"


def _coerce(name: str, raw: Any, target: type | str) -> Any:
    kind = target if isinstance(target, str) else target.__name__
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{name}: expected true or false, got {raw!r}")
    if kind == "int":
        if isinstance(raw, bool):
            raise ConfigError(f"{name}: expected an integer, got {raw!r}")
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: expected an integer, got {raw!r}") from None
    if kind == "float":
        if isinstance(raw, bool):
            raise ConfigError(f"{name}: expected a number, got {raw!r}")
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: expected a number, got {raw!r}") from None
    if kind == "str":
        if not isinstance(raw, str | int | float):
            raise ConfigError(f"{name}: expected text, got {raw!r}")
        return str(raw)
    return raw


def load_settings(data_dir: Path, environ: dict[str, str] | None = None) -> Settings:
    """Read ``kula.toml`` from ``data_dir``, apply ``KULA_*`` overrides and validate."""
    environ = dict(os.environ if environ is None else environ)
    data_dir = data_dir.resolve()
    config_path = data_dir / CONFIG_FILENAME
    if not config_path.is_file():
        raise ConfigError(
            f"no configuration at {config_path}; create one with "
            f"`kula init --data {data_dir} --url https://your.host`"
        )
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_path}: {exc}") from None
    return settings_from_mapping(data_dir, raw, environ)


def settings_from_mapping(
    data_dir: Path, raw: dict[str, Any], environ: dict[str, str] | None = None
) -> Settings:
    """Build settings from a parsed configuration mapping plus environment overrides."""
    known = {f.name: f for f in fields(Settings) if f.name not in {"data_dir", "extra"}}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"unknown setting {key!r} in {CONFIG_FILENAME}")
        values[key] = _coerce(key, value, known[key].type)
    for env_key, value in (environ or {}).items():
        if not env_key.startswith(_ENV_PREFIX) or env_key == "KULA_DATA":
            continue
        key = env_key[len(_ENV_PREFIX):].lower()
        if key not in known:
            raise ConfigError(f"unknown setting in environment variable {env_key}")
        values[key] = _coerce(env_key, value, known[key].type)
    if "url" not in values:
        raise ConfigError("setting 'url' (the node's public base URL) is required")
    settings = Settings(data_dir=data_dir, **values)
    check_settings(settings)
    return settings


def _is_local_host(hostname: str) -> bool:
    if hostname in {"localhost", ""} or hostname.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def check_settings(settings: Settings) -> None:
    """Refuse settings that are wrong, and insecure ones outside development mode."""
    parts = urlsplit(settings.url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"url: must be an absolute http(s) URL, got {settings.url!r}")
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise ConfigError("url: must be the site root, without path, query or fragment")
    if settings.registration not in REGISTRATION_MODES:
        raise ConfigError(f"registration: must be one of {', '.join(REGISTRATION_MODES)}")
    if settings.federation not in FEDERATION_MODES:
        raise ConfigError(f"federation: must be one of {', '.join(FEDERATION_MODES)}")
    if not 0 < settings.port < 65536:
        raise ConfigError("port: must be between 1 and 65535")
    if settings.reputation_half_life_days <= 0:
        raise ConfigError("reputation_half_life_days: must be positive")
    if not 0 < settings.reputation_restart_probability <= 1:
        raise ConfigError("reputation_restart_probability: must be in (0, 1]")
    if settings.delivery_signature_scheme not in {"cavage", "rfc9421"}:
        raise ConfigError("delivery_signature_scheme: must be cavage or rfc9421")
    if settings.log_format not in {"json", "text"}:
        raise ConfigError("log_format: must be json or text")
    if settings.log_level.upper() not in LOG_LEVELS:
        raise ConfigError(f"log_level: must be one of {', '.join(LOG_LEVELS)}")
    # A zero rate limit would divide by zero in the limiter on the first request.
    for name in ("max_body_bytes", "max_image_bytes", "signature_max_skew",
                 "rate_limit_auth_per_minute", "rate_limit_write_per_minute"):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{name}: must be positive")
    if not _HANDLE.fullmatch(settings.community_handle):
        raise ConfigError(
            "community_handle: 1 to 30 lowercase letters, digits or underscores (it is a username)"
        )
    if settings.database_url and not settings.database_url.startswith(
        ("sqlite:", "postgresql://", "postgres://")
    ):
        raise ConfigError("database_url: must start with sqlite: or postgresql://")
    if settings.development:
        return
    if parts.scheme != "https":
        raise ConfigError(
            "url: a public node must use https; set development = true for a local node"
        )
    if _is_local_host(parts.hostname):
        raise ConfigError("url: loopback or private hosts need development = true")
    if settings.allow_private_network:
        raise ConfigError("allow_private_network is only allowed with development = true")


def with_overrides(settings: Settings, **changes: Any) -> Settings:
    """Return a checked copy with command-line overrides (``--host``, ``--port``) applied."""
    updated = replace(settings, **{k: v for k, v in changes.items() if v is not None})
    check_settings(updated)
    return updated


def render_config(values: dict[str, Any]) -> str:
    """Write a minimal TOML document for ``kula init`` (flat keys, scalar values only)."""
    lines = ["# Kula node configuration. Every key can be overridden by KULA_<KEY>.", ""]
    for key, value in values.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int):
            text = str(value)
        else:
            escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
            text = f'"{escaped}"'
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"
