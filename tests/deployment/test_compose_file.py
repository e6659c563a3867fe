"""docker-compose.yml read as compose would read it, without a Docker engine: the Compose Specification's schema,
every variable known, every dependency, build path and mounted file present, and the deployment rules of README
"Deploy" (healthchecks, loopback ports, one beat, persistent volumes). ``docker compose config`` too when a compose
CLI is installed (Debian: ``apt-get install docker-compose``)."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from deploy.smoke.compose import ComposeError, interpolate, load, read_env_file, references

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((Path(__file__).parent / "compose_spec" / "compose-spec.json").read_text())
COMPOSE = load(ROOT / "docker-compose.yml")
SERVICES = COMPOSE["services"]
APP = {name for name, s in SERVICES.items() if "build" in s}


def _schema_errors(document):
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft7Validator(SCHEMA).iter_errors(document)
    ]


def test_the_file_follows_the_compose_specification():
    assert _schema_errors(COMPOSE) == []


def test_the_schema_check_catches_a_misspelt_key():
    broken = copy.deepcopy(COMPOSE)
    broken["services"]["web"]["healthchek"] = broken["services"]["web"].pop("healthcheck")
    assert any("healthchek" in e for e in _schema_errors(broken))


def test_every_variable_is_in_env_example_or_has_a_default(tmp_path):
    example = read_env_file(ROOT / ".env.example")
    missing = [f"line {r.line}: ${{{r.name}}}" for r in references() if r.default is None and r.name not in example]
    assert missing == []
    # the required ones are what scripts/make_env.py generates
    subprocess.run([sys.executable, "scripts/make_env.py", "--output", str(tmp_path / ".env")], cwd=ROOT, check=True)
    assert {r.name for r in references() if r.required} <= set(read_env_file(tmp_path / ".env"))


def test_a_missing_required_variable_stops_interpolation_with_its_message():
    with pytest.raises(ComposeError, match="POSTGRES_PASSWORD is required: run python3 scripts/make_env.py"):
        interpolate(COMPOSE, {})


def test_every_dependency_exists_and_app_services_wait_for_the_migrate_step():
    for name, service in SERVICES.items():
        for target in service.get("depends_on") or []:
            assert target in SERVICES, f"{name} depends on {target}, which is not a service"
    assert SERVICES["migrate"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert SERVICES["migrate"]["command"] == ["python", "manage.py", "deploy_init"]
    for name in APP - {"migrate"}:
        assert SERVICES[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}, name


def test_build_contexts_and_mounted_files_exist_and_named_volumes_are_declared():
    for name in APP:
        build = SERVICES[name]["build"]
        context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
        assert (
            context / (build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile")
        ).is_file()
    for name, service in SERVICES.items():
        assert "build" in service or ":" in service["image"], f"{name}: an image without a pinned tag"
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name}: {source} does not exist"
            else:
                assert source in COMPOSE["volumes"], f"{name}: volume {source} is not declared"


def test_every_long_running_service_has_a_healthcheck_restarts_and_publishes_on_loopback_only():
    for name, service in SERVICES.items():
        if name == "migrate":
            assert service["restart"] == "no" and service["healthcheck"] == {"disable": True}
            continue
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
        assert service["restart"] == "unless-stopped", name
        for port in service.get("ports") or []:
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond this machine"
    assert "/health/live" in " ".join(SERVICES["web"]["healthcheck"]["test"])


def test_one_beat_the_price_stream_persistent_state_and_settings_written_once():
    beats = [n for n, s in SERVICES.items() if "beat" in (s.get("command") or [])]
    assert beats == ["beat"]
    assert SERVICES["price-stream"]["command"][:3] == ["python", "manage.py", "price_stream"]
    assert "--wait" in SERVICES["price-stream"]["command"]
    assert "--appendonly" in SERVICES["redis"]["command"]
    assert SERVICES["redis"]["command"][SERVICES["redis"]["command"].index("--appendonly") + 1] == "yes"
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    assert "redisdata:/data" in SERVICES["redis"]["volumes"]
    shards = sorted(n for n in SERVICES if n.startswith("strategy-"))
    for name in APP:
        assert "appvar:/app/var" in SERVICES[name]["volumes"], name
        env = SERVICES[name]["environment"]
        assert env["ASIRIKUY_MODE"] == "production" and env["ASIRIKUY_STRATEGY_SHARDS"] == str(len(shards))
    assert [SERVICES[n]["environment"]["ASIRIKUY_WORKER_SHARD"] for n in shards] == [str(k) for k in range(len(shards))]
    text = (ROOT / "docker-compose.yml").read_text()
    assert text.count("REDIS_URL:") == 1 and text.count("DJANGO_SECURE_COOKIES") == 0


def test_the_image_leaves_out_local_state_and_secrets():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".env", ".venv", "var", "**/__pycache__"} <= ignored


def _compose_cli() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return None


@pytest.mark.skipif(_compose_cli() is None, reason="no compose CLI (Debian: apt-get install docker-compose)")
def test_the_compose_cli_accepts_the_file(tmp_path):
    # compose reads .env beside the file and checks the paths it names: a copy with a generated .env
    for name in ("docker-compose.yml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, str(ROOT / "scripts/make_env.py"), "--output", str(tmp_path / ".env")], check=True)
    done = subprocess.run([*_compose_cli(), "config", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
