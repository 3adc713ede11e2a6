"""The deploy kit in ``deploy/``: each file is checked by its own tool where the
tool is installed (systemd-analyze, nginx, caddy, docker compose), and always by
a structural check of the directives Kula relies on. A missing tool is reported
as a skip naming the tool; ``make test`` installs none of them."""

from __future__ import annotations

import dataclasses
import datetime
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from node.settings import Settings, settings_from_mapping

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
VENV_BIN = Path(sys.executable).parent
SETTING_NAMES = {field.name for field in dataclasses.fields(Settings)} - {"data_dir", "extra"}
#: What the node accepts in one request: the largest image plus the multipart margin
#: create_app allows (node/app.py).
LARGEST_BODY = Settings.max_image_bytes + 64 * 1024
KULA_SERVICES = ("kula-web", "kula-worker")
UNIT_FILES = ("kula-web.service", "kula-worker.service")


def _needs(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed here; the structural checks above still ran")
    return path


# --- docker compose -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def _example_env() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / "kula.env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def _interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}``."""

    def one(match: re.Match[str]) -> str:
        name, operator, argument = match["name"], match["op"], match["arg"] or ""
        if env.get(name):
            return env[name]
        if operator == ":?":
            raise AssertionError(f"{name} is required: {argument}")
        return argument if operator == ":-" else ""

    return re.sub(r"\$\{(?P<name>\w+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}", one, text)


@pytest.mark.spec("Kula deploy: compose services")
def test_compose_has_the_four_services_wired_together(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"kula-web", "kula-worker", "postgres", "caddy"}
    web, worker = services["kula-web"], services["kula-worker"]
    assert web["command"] == ["serve", "--no-workers"]
    assert worker["command"] == ["worker"]
    assert web["image"] == worker["image"]  # one build, two roles
    assert (REPO / web["build"]["context"].replace("..", ".")).resolve() == REPO
    assert (DEPLOY / web["build"]["context"] / web["build"]["dockerfile"]).is_file()
    for name in KULA_SERVICES:
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert services[name]["stop_signal"] == "SIGINT"
    assert worker["depends_on"]["kula-web"]["condition"] == "service_healthy"
    assert services["caddy"]["depends_on"]["kula-web"]["condition"] == "service_healthy"
    assert services["caddy"]["environment"]["KULA_UPSTREAM"] == "kula-web:8080"
    assert {"80:80", "443:443"} <= set(services["caddy"]["ports"])
    assert "ports" not in web  # only the proxy is reachable from outside


@pytest.mark.spec("Kula deploy: compose healthchecks")
def test_compose_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert any("/readyz" in part for part in services["kula-web"]["healthcheck"]["test"])
    assert services["kula-worker"]["healthcheck"]["test"][1:] == ["kula", "queue", "status"]
    for name, service in services.items():
        check = service["healthcheck"]
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert "interval" in check and "timeout" in check, name


@pytest.mark.spec("Kula deploy: compose volumes")
def test_compose_volumes_are_declared_and_persistent(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    mounts: dict[str, dict[str, str]] = {}
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            mounts.setdefault(name, {})[target] = source
            if not source.startswith("."):
                assert source in declared, f"{name} mounts undeclared volume {source}"
            else:
                assert (DEPLOY / source).is_file(), f"{name} mounts missing {source}"
    assert mounts["postgres"]["/var/lib/postgresql/data"] == "postgres-data"
    assert mounts["kula-web"]["/data"] == mounts["kula-worker"]["/data"] == "kula-data"
    assert mounts["caddy"]["/etc/caddy/Caddyfile"] == "./Caddyfile"
    assert mounts["caddy"]["/data"] == "caddy-data"  # certificates survive restarts


@pytest.mark.spec("Kula deploy: compose environment")
def test_compose_environment_is_a_valid_public_configuration(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    env = _example_env()
    for name in KULA_SERVICES:
        environment = compose["services"][name]["environment"]
        unknown = {key for key in environment if key.startswith("KULA_")
                   and key[5:].lower() not in SETTING_NAMES}
        assert not unknown, f"{name}: the node refuses unknown settings {unknown}"
        resolved = {key: _interpolate(str(value), env) for key, value in environment.items()}
        assert resolved["KULA_DATABASE_URL"].startswith("postgresql://kula:")
        assert resolved["KULA_DATABASE_URL"].endswith("@postgres:5432/kula")
        # The same check the node runs at start-up, outside development mode.
        settings = settings_from_mapping(tmp_path, {}, resolved)
        assert settings.url == f"https://{env['KULA_DOMAIN']}"
        assert not settings.development
    postgres = compose["services"]["postgres"]["environment"]
    assert _interpolate(postgres["POSTGRES_PASSWORD"], env) == env["POSTGRES_PASSWORD"]
    with pytest.raises(AssertionError, match="POSTGRES_PASSWORD is required"):
        _interpolate(postgres["POSTGRES_PASSWORD"], {})


@pytest.mark.spec("Kula deploy: compose syntax (docker compose config)")
def test_compose_file_passes_docker_compose_config(tmp_path: Path) -> None:
    docker = _needs("docker")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("the docker compose plugin is not installed; structural checks above ran")
    shutil.copy(DEPLOY / "kula.env.example", tmp_path / ".env")
    done = subprocess.run(
        [docker, "compose", "--project-directory", str(DEPLOY), "--env-file",
         str(tmp_path / ".env"), "-f", str(DEPLOY / "compose.yaml"), "config", "--quiet"],
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert done.returncode == 0, done.stderr


# --- Dockerfile and entry point --------------------------------------------------------------


def _dockerfile() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)
    instructions = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


@pytest.mark.spec("Kula deploy: Dockerfile")
def test_dockerfile_builds_a_non_root_image_with_a_health_check() -> None:
    instructions = _dockerfile()
    stages = [rest for keyword, rest in instructions if keyword == "FROM"]
    assert all(stage.startswith("python:3.11-slim") for stage in stages)
    final = instructions[max(i for i, (k, _) in enumerate(instructions) if k == "FROM"):]
    final_of = {keyword: rest for keyword, rest in final}
    assert final_of["USER"] not in {"root", "0"}
    assert final_of["VOLUME"] == "/data"
    assert final_of["EXPOSE"] == "8080"
    assert final_of["STOPSIGNAL"] == "SIGINT"
    assert "/healthz" in final_of["HEALTHCHECK"]
    assert final_of["ENTRYPOINT"] == '["kula-entrypoint"]'
    assert final_of["CMD"] == '["serve"]'
    assert any(k == "RUN" and "pip install ." in rest for k, rest in instructions)
    # Every COPY from the build context names something that exists in the repository.
    for keyword, rest in instructions:
        if keyword == "COPY" and "--from=" not in rest:
            *sources, _ = [part for part in rest.split() if not part.startswith("--")]
            for source in sources:
                assert (REPO / source).exists(), source


def _entrypoint(tmp_path: Path, args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
                   "KULA_DATA": str(tmp_path / "data"), "HOME": str(tmp_path), **env}
    return subprocess.run(
        ["sh", str(DEPLOY / "docker-entrypoint.sh"), *args], env=environment,
        capture_output=True, text=True, check=False, timeout=120,
    )


@pytest.mark.spec("Kula deploy: Docker entry point")
def test_entrypoint_initialises_a_sqlite_node_once_then_migrates(tmp_path: Path) -> None:
    assert subprocess.run(["sh", "-n", str(DEPLOY / "docker-entrypoint.sh")],
                          check=False).returncode == 0
    refused = _entrypoint(tmp_path, ["migrate"])
    assert refused.returncode == 2 and "KULA_URL" in refused.stderr
    first = _entrypoint(tmp_path, ["migrate"], KULA_URL="https://kula.example.org")
    assert first.returncode == 0, first.stderr
    assert "Initialised" in first.stdout
    assert "database schema is at version" in first.stdout
    again = _entrypoint(tmp_path, ["migrate"], KULA_URL="https://kula.example.org")
    assert again.returncode == 0 and "Initialised" not in again.stdout
    assert (tmp_path / "data" / "kula.sqlite3").is_file()
    other = _entrypoint(tmp_path, ["member", "list"], KULA_URL="https://kula.example.org")
    assert other.returncode == 0, other.stderr


@pytest.mark.spec("Kula deploy: Docker entry point")
async def test_entrypoint_on_postgresql_writes_only_the_configuration(
    tmp_path: Path, postgres_url: str
) -> None:
    done = _entrypoint(tmp_path, ["migrate"], KULA_URL="https://kula.example.org/",
                       KULA_DATABASE_URL=postgres_url)
    assert done.returncode == 0, done.stderr
    assert "database schema is at version" in done.stdout
    data = tmp_path / "data"
    assert (data / "kula.toml").read_text().splitlines()[-1] == 'url = "https://kula.example.org"'
    assert not (data / "kula.sqlite3").exists()
    assert (data / "media").is_dir()
    assert (data / "kula.toml").stat().st_mode & 0o077 == 0


# --- systemd units ---------------------------------------------------------------------------


def _unit(name: str) -> dict[str, dict[str, list[str]]]:
    """Parse a unit file: sections of keys, each with every value it was given."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for line in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            assert line.endswith("]"), line
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None and "=" in line, line
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


@pytest.mark.spec("Kula deploy: systemd units")
@pytest.mark.parametrize("name", UNIT_FILES)
def test_unit_runs_kula_as_its_own_user_with_a_private_data_directory(name: str) -> None:
    unit = _unit(name)
    assert set(unit) == {"Unit", "Service", "Install"}
    service = unit["Service"]
    assert service["User"] == ["kula"] and service["Group"] == ["kula"]
    assert service["StateDirectory"] == ["kula"] and service["StateDirectoryMode"] == ["0700"]
    assert service["Environment"] == ["KULA_DATA=/var/lib/kula"]
    assert service["KillSignal"] == ["SIGINT"]
    assert service["NoNewPrivileges"] == ["yes"] and service["ProtectSystem"] == ["strict"]
    command = service["ExecStart"][0].split()
    assert command[0] == "/opt/kula/venv/bin/kula"
    assert command[1] == ("serve" if name == "kula-web.service" else "worker")
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


@pytest.mark.spec("Kula deploy: systemd units")
def test_web_unit_migrates_first_and_the_worker_follows_it() -> None:
    web, worker = _unit("kula-web.service"), _unit("kula-worker.service")
    assert web["Service"]["ExecStartPre"] == ["/opt/kula/venv/bin/kula migrate"]
    assert web["Service"]["ExecStart"] == ["/opt/kula/venv/bin/kula serve --no-workers"]
    assert "kula-web.service" in worker["Unit"]["After"][0].split()


@pytest.mark.spec("Kula deploy: systemd units (systemd-analyze verify)")
def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = _needs("systemd-analyze")
    for name in UNIT_FILES:
        # verify checks that ExecStart exists: point it at this checkout's kula.
        text = (DEPLOY / name).read_text(encoding="utf-8")
        here = text.replace("/opt/kula/venv/bin/kula", str(VENV_BIN / "kula"))
        (tmp_path / name).write_text(here)
    done = subprocess.run(
        [analyze, "verify", "--man=no", *(str(tmp_path / name) for name in UNIT_FILES)],
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # Unknown keys and bad values are only warnings: none may appear.
    problems = [line for line in done.stderr.splitlines()
                if re.search(r"Unknown|Failed to parse|Invalid|ignoring", line)]
    assert problems == []


# --- nginx -----------------------------------------------------------------------------------


Directive = tuple[str, list[str], list[Any] | None]


def _parse_nginx(text: str) -> list[Directive]:
    tokens = re.findall(r'"(?:[^"\\]|\\.)*"|[{};]|[^\s{};"]+', re.sub(r"#[^\n]*", "", text))
    position = 0

    def block() -> list[Directive]:
        nonlocal position
        directives: list[Directive] = []
        words: list[str] = []
        while position < len(tokens):
            token = tokens[position]
            position += 1
            if token == ";":
                directives.append((words[0], words[1:], None))
                words = []
            elif token == "{":
                directives.append((words[0], words[1:], block()))
                words = []
            elif token == "}":
                assert not words, f"unterminated directive {words}"
                return directives
            else:
                words.append(token.strip('"'))
        assert not words, f"unterminated directive {words}"
        return directives

    return block()


def _find(directives: list[Directive], name: str) -> list[Directive]:
    return [directive for directive in directives if directive[0] == name]


def _values(directives: list[Directive], name: str) -> list[list[str]]:
    return [args for _, args, _ in _find(directives, name)]


def _size(text: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    return int(text[:-1]) * units[text[-1].lower()] if text[-1].isalpha() else int(text)


@pytest.fixture(scope="module")
def nginx_tree() -> list[Directive]:
    return _parse_nginx((DEPLOY / "nginx.conf").read_text(encoding="utf-8"))


def _tls_server(tree: list[Directive]) -> list[Directive]:
    servers = [children for _, _, children in _find(tree, "server") if children is not None]
    tls = [server for server in servers if any("ssl" in args for args in _values(server, "listen"))]
    assert len(tls) == 1
    return tls[0]


@pytest.mark.spec("Kula deploy: nginx keeps what federation signatures cover")
def test_nginx_passes_host_and_request_target_unmodified(nginx_tree: list[Directive]) -> None:
    server = _tls_server(nginx_tree)
    headers = {args[0]: " ".join(args[1:]) for args in _values(server, "proxy_set_header")}
    assert headers["Host"] == "$http_host"  # $host would drop the port
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["X-Forwarded-Proto"] == "$scheme"
    ((upstream,),) = _values(nginx_tree, "upstream")
    (upstream_servers,) = [children for name, _, children in nginx_tree if name == "upstream"]
    assert _values(upstream_servers or [], "server") == [["127.0.0.1:8080"]]
    locations = {" ".join(args): children for name, args, children in server
                 if name == "location"}
    for path, children in locations.items():
        assert children is not None
        assert not _find(children, "proxy_set_header"), f"{path} would drop the server's headers"
        assert not _find(children, "rewrite"), path
        for (target,) in _values(children, "proxy_pass"):
            # No URI part after the upstream: nginx then sends the request line as received.
            assert target == f"http://{upstream}", target
    assert locations["= /metrics"] is not None
    assert _values(locations["= /metrics"], "return") == [["404"]]
    assert _values(locations["/"], "proxy_pass")


@pytest.mark.spec("Kula deploy: nginx TLS, body size and media caching")
def test_nginx_terminates_tls_limits_bodies_and_caches_media(
    nginx_tree: list[Directive],
) -> None:
    server = _tls_server(nginx_tree)
    assert _values(server, "ssl_certificate") and _values(server, "ssl_certificate_key")
    assert {protocol for args in _values(server, "ssl_protocols") for protocol in args} <= {
        "TLSv1.2", "TLSv1.3"}
    assert _size(_values(server, "client_max_body_size")[0][0]) >= LARGEST_BODY
    media = next(children for name, args, children in server
                 if name == "location" and args == ["/media/"])
    assert media is not None
    (zone,) = _values(media, "proxy_cache")[0]
    cache_paths = _values(nginx_tree, "proxy_cache_path")
    assert any(f"keys_zone={zone}:" in " ".join(args) for args in cache_paths)
    plain = [children for _, _, children in _find(nginx_tree, "server")
             if children is not None and children is not server]
    assert any(_values(location, "return") == [["301", "https://$host$request_uri"]]
               for server_block in plain for _, _, location in _find(server_block, "location")
               if location is not None)


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kula.example.org")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return cert_path, key_path


@pytest.mark.spec("Kula deploy: nginx configuration (nginx -t)")
def test_nginx_accepts_the_configuration(tmp_path: Path, self_signed: tuple[Path, Path]) -> None:
    nginx = _needs("nginx")
    cert, key = self_signed
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    text = re.sub(r"/etc/letsencrypt/live/kula.example.org/fullchain.pem", str(cert), text)
    text = re.sub(r"/etc/letsencrypt/live/kula.example.org/privkey.pem", str(key), text)
    text = text.replace("/var/cache/nginx/kula-media", str(tmp_path / "cache"))
    (tmp_path / "kula.conf").write_text(text)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path}/body;\n"
        f"  proxy_temp_path {tmp_path}/proxy;\n  include {tmp_path}/kula.conf;\n}}\n"
    )
    done = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"),
         "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert done.returncode == 0, done.stderr


# --- Caddy -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def caddyfile() -> list[str]:
    lines = (DEPLOY / "Caddyfile").read_text(encoding="utf-8").splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


@pytest.mark.spec("Kula deploy: Caddy keeps what federation signatures cover")
def test_caddy_proxies_without_rewriting_host_or_path(caddyfile: list[str]) -> None:
    opened = sum(line.count("{") - line.count("{$") for line in caddyfile)
    closed = sum(line.count("}") - line.count("{$") for line in caddyfile)
    assert opened == closed, "unbalanced braces"
    assert "{$KULA_DOMAIN:kula.example.org} {" in caddyfile
    assert "reverse_proxy {$KULA_UPSTREAM:127.0.0.1:8080}" in caddyfile
    for line in caddyfile:
        directive = line.split()[0]
        assert directive not in {"uri", "rewrite", "handle_path"}, line
        assert not (directive == "header_up" and line.split()[1].lower() == "host"), line
    matcher = next(line for line in caddyfile if line.startswith("@metrics "))
    assert "/metrics" in matcher.split()
    assert "respond @metrics 404" in caddyfile


@pytest.mark.spec("Kula deploy: Caddy body size")
def test_caddy_allows_the_largest_upload(caddyfile: list[str]) -> None:
    (limit,) = [line.split()[1] for line in caddyfile if line.startswith("max_size ")]
    number, unit = re.fullmatch(r"(\d+)(MB|MiB|KB|KiB)", limit).groups()  # type: ignore[union-attr]
    scale = {"MB": 10**6, "MiB": 2**20, "KB": 10**3, "KiB": 2**10}[unit]
    assert int(number) * scale >= LARGEST_BODY


@pytest.fixture
def caddy_home(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "KULA_DOMAIN": "kula.example.org"}


@pytest.mark.spec("Kula deploy: Caddy configuration (caddy validate)")
def test_caddy_validates_the_configuration(caddy_home: dict[str, str]) -> None:
    caddy = _needs("caddy")
    done = subprocess.run(
        [caddy, "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True, text=True, check=False, timeout=60, env=caddy_home,
    )
    assert done.returncode == 0, done.stderr
