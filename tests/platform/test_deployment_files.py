"""The deployment files (docker-compose.yml, Dockerfile, .env.example, .ci/run) agree with the code they run.

No Docker engine is needed: the files are parsed, and every command they would run is checked
against what this project and its virtualenv actually provide.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from celery.app.utils import find_app
from celery.bin.celery import celery as celery_cli
from celery.worker.control import Panel
from django.core.management import get_commands
from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict] = COMPOSE["services"]
APP_SERVICES = {name: service for name, service in SERVICES.items() if "build" in service}
VAR_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=")
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-?])([^}]*))?\}")


# --- helpers ----------------------------------------------------------------------------------


def settings_variables() -> set[str]:
    """Names passed as a string literal first argument to any method of `env` in settings.py."""
    tree = ast.parse((ROOT / "helpdesk" / "settings.py").read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "env"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }


def env_example_lines() -> list[str]:
    return (ROOT / ".env.example").read_text().splitlines()


def env_example_variables() -> set[str]:
    return {match.group(1) for line in env_example_lines() if (match := VAR_LINE.match(line))}


def compose_interpolated_names() -> set[str]:
    return {match.group(1) for match in INTERPOLATION.finditer((ROOT / "docker-compose.yml").read_text())}


def interpolate(value: str, environ: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} (with `:`, empty counts as unset), and $$."""

    def replace(match: re.Match) -> str:
        name, operator, argument = match.groups()
        current = environ.get(name, "")
        if operator == "?" and not current:
            raise AssertionError(f"compose requires {name}: {argument}")
        return current or (argument if operator == "-" else "")

    return INTERPOLATION.sub(replace, value).replace("$$", "$")


def tokens_of(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else list(command)


def healthcheck_tokens(service: dict) -> list[str]:
    test = service["healthcheck"]["test"]
    if isinstance(test, str):
        return shlex.split(test)
    kind, *rest = test
    return shlex.split(rest[0]) if kind == "CMD-SHELL" else rest


def positionals(tokens: list[str]) -> list[str]:
    """Tokens that are not options; an option's value follows it when it does not contain `=`."""
    result, skip = [], False
    for token in tokens:
        if skip:
            skip = False
        elif token.startswith("-"):
            skip = "=" not in token
        else:
            result.append(token)
    return result


def check_runs_in_project(tokens: list[str]) -> None:
    """Fail unless the command's executable and entry point exist in this project and its venv."""
    executable, *arguments = tokens
    assert (VENV_BIN / executable).exists(), f"{executable} is not in {VENV_BIN}"
    if executable == "gunicorn":
        targets = [a for a in arguments if re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", a)]
        assert len(targets) == 1, f"gunicorn needs exactly one MODULE:ATTRIBUTE, got {arguments}"
        module_name, attribute = targets[0].split(":")
        module = importlib.import_module(module_name)
        assert callable(getattr(module, attribute, None)), f"{targets[0]} is not a WSGI callable"
    elif executable == "celery":
        assert arguments[:1] in (["-A"], ["--app"]), f"celery must name its app first: {tokens}"
        app_name = arguments[1]
        assert find_app(app_name) is importlib.import_module("helpdesk.celery").app
        subcommand, *rest = positionals(arguments[2:])
        assert subcommand in celery_cli.commands, f"celery has no {subcommand!r} command"
        if subcommand == "inspect":
            assert Panel.meta[rest[0]].type == "inspect", f"{rest[0]!r} is not an inspect command"
    elif executable == "python":
        if arguments[0] == "-c":
            compile(arguments[1], "<healthcheck>", "exec")
        else:
            assert arguments[0] == "manage.py", f"python runs something unexpected: {arguments}"
            assert (ROOT / "manage.py").exists()
            assert arguments[1] in get_commands(), f"manage.py has no {arguments[1]!r} command"
    else:
        pytest.fail(f"no check for executable {executable!r}: teach this test about it")


def runs_beat(tokens: list[str]) -> bool:
    if tokens[:1] != ["celery"]:
        return False
    return positionals(tokens[1:])[:1] == ["beat"] or "-B" in tokens or "--beat" in tokens


def one_shot_services() -> set[str]:
    return {
        dependency
        for service in SERVICES.values()
        for dependency, spec in (service.get("depends_on") or {}).items()
        if isinstance(spec, dict) and spec.get("condition") == "service_completed_successfully"
    }


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    logical, current = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.strip().startswith("#") or not line.strip():
            continue
        current += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            logical.append(current.strip())
            current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def dockerfile_exec_form(instruction: str) -> list[str]:
    [arguments] = [args for name, args in dockerfile_instructions() if name == instruction]
    return json.loads(arguments)


# --- docker-compose.yml: services and the commands they run -----------------------------------


def test_compose_defines_postgres_redis_web_worker_and_beat():
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(SERVICES)


def test_exactly_one_service_runs_celery_beat_and_it_is_never_replicated():
    beats = [
        name for name, service in SERVICES.items() if "command" in service and runs_beat(tokens_of(service["command"]))
    ]
    assert beats == ["beat"]
    beat = SERVICES["beat"]
    assert beat.get("deploy", {}).get("replicas", 1) <= 1
    assert beat.get("scale", 1) <= 1


def test_beat_keeps_its_schedule_on_a_mounted_volume():
    tokens = tokens_of(SERVICES["beat"]["command"])
    schedule = tokens[tokens.index("--schedule") + 1]
    mounts = [volume.split(":")[1] for volume in SERVICES["beat"]["volumes"]]
    assert any(schedule.startswith(mount.rstrip("/") + "/") for mount in mounts)


@pytest.mark.parametrize(
    "name", [name for name, service in SERVICES.items() if "command" in service and "build" in service]
)
def test_app_service_command_runs_something_the_project_provides(name):
    check_runs_in_project(tokens_of(SERVICES[name]["command"]))


def test_web_runs_gunicorn_on_the_wsgi_application_and_worker_runs_a_celery_worker():
    assert tokens_of(SERVICES["web"]["command"])[:2] == ["gunicorn", "helpdesk.wsgi:application"]
    assert positionals(tokens_of(SERVICES["worker"]["command"])[1:])[0] == "worker"


def test_migrations_run_once_before_web_worker_and_beat_start():
    assert tokens_of(SERVICES["migrate"]["command"])[1:3] == ["manage.py", "migrate"]
    for name in ("web", "worker", "beat"):
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_every_long_running_service_has_a_healthcheck_and_one_shot_services_do_not_restart():
    one_shot = one_shot_services()
    for name, service in SERVICES.items():
        if name in one_shot:
            assert service.get("restart") == "no", f"{name} would be re-run every time it exits"
        else:
            assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


@pytest.mark.parametrize("name", [name for name in APP_SERVICES if "healthcheck" in APP_SERVICES[name]])
def test_app_healthcheck_runs_something_the_project_provides(name):
    check_runs_in_project(healthcheck_tokens(SERVICES[name]))


def test_web_healthcheck_probes_the_healthz_route_with_an_allowed_host():
    code = healthcheck_tokens(SERVICES["web"])[-1]
    url = re.search(r"http://[^\"']+", code).group(0)
    path = "/" + url.split("/", 3)[3]
    try:
        assert resolve(path).url_name == "healthz"
    except Resolver404:
        pytest.fail(f"the web healthcheck probes {path}, which is not a route")
    host = re.search(r"[\"']Host[\"']:\s*[\"']([^\"']+)", code).group(1)
    allowed = interpolate(SERVICES["web"]["environment"]["ALLOWED_HOSTS"], {"ALLOWED_HOSTS": "help.example.com"})
    assert host in allowed.split(",")


def test_worker_healthcheck_pings_only_its_own_node():
    tokens = healthcheck_tokens(SERVICES["worker"])
    assert tokens[tokens.index("-d") + 1] == "celery@$$HOSTNAME"  # $$ is Compose's escape for $


def test_depends_on_names_existing_services_with_conditions_they_can_meet():
    for name, service in SERVICES.items():
        for dependency, spec in (service.get("depends_on") or {}).items():
            assert dependency in SERVICES, f"{name} depends on unknown service {dependency}"
            condition = spec["condition"]
            assert condition in {"service_started", "service_healthy", "service_completed_successfully"}
            if condition == "service_healthy":
                assert "healthcheck" in SERVICES[dependency], f"{dependency} can never become healthy"


def test_app_services_wait_for_healthy_postgres_and_redis():
    for name in ("web", "worker", "beat"):
        depends_on = SERVICES[name]["depends_on"]
        assert depends_on["postgres"]["condition"] == "service_healthy"
        assert depends_on["redis"]["condition"] == "service_healthy"


def test_named_volumes_are_all_declared_and_all_used():
    declared = set(COMPOSE.get("volumes") or {})
    used = {
        volume.split(":")[0]
        for service in SERVICES.values()
        for volume in service.get("volumes", [])
        if not volume.startswith((".", "/", "~"))
    }
    assert used == declared


# --- docker-compose.yml and .env.example against the variables settings.py reads -------------


def test_settings_variables_are_found_by_parsing_settings():
    # Guards the AST walk itself: a few variables settings.py certainly reads.
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "PROMISE_WARN_MIN", "LOG_LEVEL"} <= settings_variables()


def test_every_variable_the_app_services_receive_is_read_by_settings():
    for name, service in APP_SERVICES.items():
        unknown = set(service.get("environment") or {}) - settings_variables()
        assert not unknown, f"{name} passes variables settings.py never reads: {sorted(unknown)}"


def test_app_services_share_one_environment():
    environments = {json.dumps(service["environment"], sort_keys=True) for service in APP_SERVICES.values()}
    assert len(environments) == 1


def test_secrets_come_from_the_host_environment_and_are_required():
    environment = APP_SERVICES["web"]["environment"]
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert "${POSTGRES_PASSWORD:?" in environment["DATABASE_URL"]
    assert SERVICES["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def test_the_app_environment_passes_production_settings_validation():
    environ = {
        "SECRET_KEY": "a" * 25 + "b" * 25 + "cdefg",
        "ALLOWED_HOSTS": "help.example.com",
        "SITE_URL": "https://help.example.com",
        "POSTGRES_PASSWORD": "example",
    }
    app_environ = {name: interpolate(str(value), environ) for name, value in APP_SERVICES["web"]["environment"].items()}
    script = (
        "import json, django; from django.conf import settings; django.setup(); print(json.dumps({"
        "'db': settings.DATABASES['default']['ENGINE'], 'cache': settings.CACHES['default']['LOCATION'],"
        "'broker': settings.CELERY_BROKER_URL, 'production': settings.IS_PRODUCTION, 'debug': settings.DEBUG}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "helpdesk.settings", **app_environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == {
        "db": "django.db.backends.postgresql",
        "cache": "redis://redis:6379/1",
        "broker": "redis://redis:6379/0",
        "production": True,
        "debug": False,
    }


def test_env_example_documents_every_variable_settings_reads():
    missing = settings_variables() - env_example_variables()
    assert not missing, f".env.example does not document {sorted(missing)}"


def test_env_example_mentions_only_variables_settings_reads_or_compose_interpolates():
    extra = env_example_variables() - settings_variables()
    assert extra <= compose_interpolated_names(), (
        f".env.example mentions unknown {sorted(extra - compose_interpolated_names())}"
    )
    app_names = {name for service in APP_SERVICES.values() for name in service.get("environment") or {}}
    assert not extra & app_names


def test_env_example_documents_every_variable_compose_interpolates():
    missing = compose_interpolated_names() - env_example_variables()
    assert not missing, f"docker-compose.yml reads {sorted(missing)}, which .env.example does not document"


def test_env_example_gives_each_variable_a_comment_with_its_default():
    lines = env_example_lines()
    for number, line in enumerate(lines):
        if not (match := VAR_LINE.match(line)):
            continue
        block = []
        for above in reversed(lines[:number]):
            if not above.startswith("#") or VAR_LINE.match(above):
                break
            block.append(above)
        assert block, f"{match.group(1)} has no comment above it"
        assert "Default:" in " ".join(block), f"{match.group(1)}'s comment does not state its default"


def test_env_example_documents_each_variable_once_and_sets_no_secret():
    names = [match.group(1) for line in env_example_lines() if (match := VAR_LINE.match(line))]
    assert len(names) == len(set(names))
    for line in env_example_lines():
        if (match := VAR_LINE.match(line)) and not line.startswith("#"):
            assert line == f"{match.group(1)}=", f"only empty placeholders may be uncommented: {line}"


def test_env_example_is_grouped_into_the_documented_sections():
    text = (ROOT / ".env.example").read_text()
    headings = ["Core", "Database", "Cache", "Email", "Celery", "Promise engine", "Security", "Logging"]
    positions = [re.search(rf"^# {heading}( \(.*\))?$", text, re.MULTILINE) for heading in headings]
    assert all(positions), "a section heading is missing"
    assert [match.start() for match in positions] == sorted(match.start() for match in positions)


# --- Dockerfile and .dockerignore --------------------------------------------------------------


def test_dockerfile_installs_requirements_after_copying_them():
    instructions = dockerfile_instructions()
    copy = next(i for i, (name, args) in enumerate(instructions) if name == "COPY" and "requirements.txt" in args)
    install = next(
        i
        for i, (name, args) in enumerate(instructions)
        if name == "RUN" and "pip install" in args and "-r requirements.txt" in args
    )
    assert copy < install
    assert "--no-cache-dir" in instructions[install][1]
    assert instructions[0] == ("FROM", "python:3.11-slim")


def test_dockerfile_runs_as_an_unprivileged_user():
    users = [args for name, args in dockerfile_instructions() if name == "USER"]
    assert users and users[-1] not in {"root", "0"}


def test_dockerfile_default_command_is_the_web_command_and_its_port_is_exposed():
    command = dockerfile_exec_form("CMD")
    assert command == tokens_of(SERVICES["web"]["command"])
    check_runs_in_project(command)
    port = command[command.index("--bind") + 1].rsplit(":", 1)[1]
    assert ("EXPOSE", port) in dockerfile_instructions()


def test_dockerfile_collectstatic_step_passes_settings_validation(tmp_path):
    instructions = dockerfile_instructions()
    [collect] = [args for name, args in instructions if name == "RUN" and "collectstatic" in args]
    image_env = {}
    for name, args in instructions:
        if name == "ENV":
            image_env.update(item.split("=", 1) for item in shlex.split(args))
    image_env["DATA_DIR"] = str(tmp_path)  # the image's DATA_DIR, redirected to a scratch folder
    result = subprocess.run(
        ["/bin/sh", "-c", collect],
        cwd=ROOT,
        env={**image_env, "PATH": f"{VENV_BIN}:{os.environ['PATH']}", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "staticfiles" / "staticfiles.json").exists()


def test_dockerignore_keeps_local_state_and_secrets_out_but_not_the_project():
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        """Roughly Docker's rule: a pattern drops a path or a folder above it; **/ matches at any depth."""
        parts = Path(path).parts
        prefixes = ["/".join(parts[: depth + 1]) for depth in range(len(parts))]
        return any(
            fnmatch.fnmatch(prefix, pattern) or fnmatch.fnmatch(prefix.rsplit("/", 1)[-1], pattern.removeprefix("**/"))
            if pattern.startswith("**/")
            else fnmatch.fnmatch(prefix, pattern)
            for pattern in patterns
            for prefix in prefixes
        )

    for path in (".venv", "var", ".git", "artifacts", ".env", "tickets/__pycache__"):
        assert ignored(path), f"{path} would be sent to the Docker build"
    for path in ("requirements.txt", "manage.py", "helpdesk/settings.py", "static", "templates", ".env.example"):
        assert not ignored(path), f"{path} is needed in the image but .dockerignore drops it"


# --- .ci/run -----------------------------------------------------------------------------------


def test_ci_runs_make_test_and_nothing_else():
    # make test sets up its own machine (scripts/prepare_test.py), so CI and a newcomer run the same thing.
    lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines == ["set -euo pipefail", 'cd "$(dirname "$0")/.."', "make test"]
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
