"""Deployment files and production settings, checked without Docker: what CI can prove about a deploy."""

import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("web", "worker", "beat", "postgres", "redis")
APP_SERVICES = ("web", "worker", "beat")
# Anything a settings module reads from the environment: env("X"), env.bool("X", ...), os.environ.get("X")...
ENV_READ = re.compile(r"""(?:\benv(?:\.\w+)?|os\.environ\.get|os\.getenv)\(\s*["']([A-Z][A-Z0-9_]*)["']""")


def run_python(code_or_args: list[str], **env: str) -> subprocess.CompletedProcess:
    """Run this interpreter in a clean child process at the repo root, with ``env`` on top of ours."""
    child_env = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, *code_or_args],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def secret_key() -> str:
    import secrets

    return secrets.token_urlsafe(64)


@pytest.fixture(scope="module")
def compose() -> dict:
    with open(ROOT / "docker-compose.yml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def test_compose_describes_every_service_with_a_health_check(compose):
    services = compose["services"]
    for name in SERVICES:
        assert name in services, f"docker-compose.yml has no '{name}' service"
        test = services[name].get("healthcheck", {}).get("test")
        assert test and test != ["NONE"], f"'{name}' has no health check"


def test_compose_starts_the_app_after_healthy_services_and_migrations(compose):
    services = compose["services"]
    for name in APP_SERVICES:
        service = services[name]
        depends = service.get("depends_on", {})
        for needed in ("postgres", "redis"):
            assert depends.get(needed, {}).get("condition") == "service_healthy", (name, needed)
        assert depends.get("migrate", {}).get("condition") == "service_completed_successfully", name
        assert service["environment"]["DJANGO_SETTINGS_MODULE"] == "closegap.settings.production"
        assert service.get("env_file") == ".env"
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    assert services["web"]["command"][:2] == ["gunicorn", "closegap.wsgi"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "closegap", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "closegap", "beat"]
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")


def test_web_health_check_asks_readiness_which_answers(compose, client, db):
    check = " ".join(compose["services"]["web"]["healthcheck"]["test"])
    path = re.search(r"http://127\.0\.0\.1:8000(/[^\"']*)", check).group(1)
    assert path == "/readyz/"
    assert ".status == 200" in check  # urlopen raises on the 503 of a failing check; the status is asserted too
    response = client.get(path, HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_web_readiness_in_compose_checks_the_database_the_broker_and_the_cache(compose):
    """With the environment compose gives web, /readyz/ asks PostgreSQL, the Celery broker and the Redis cache."""
    environment = {key: str(value) for key, value in compose["services"]["web"]["environment"].items()}
    environment["DATABASE_URL"] = "postgres://closegap:secret@postgres:5432/closegap"  # ${...} filled by compose
    # Only what compose sets: none of this machine's Celery or database settings.
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(("CELERY_", "DATABASE_"))}
    code = "import django; django.setup(); from closegap.views import readiness_checks; print(*readiness_checks())"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**inherited, **environment, "DJANGO_SECRET_KEY": secret_key(), "DJANGO_ALLOWED_HOSTS": "example.org"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split()) == ["broker", "cache", "database"]


def test_worker_and_beat_health_checks_ask_the_processes_themselves(compose):
    services = compose["services"]
    worker = " ".join(services["worker"]["healthcheck"]["test"])
    assert "inspect ping" in worker and "--destination worker@" in worker  # this worker, through the broker
    assert "--hostname=worker@%h" in services["worker"]["command"]
    beat = " ".join(services["beat"]["healthcheck"]["test"])
    assert "/tmp/celerybeat-schedule" in beat and "--schedule=/tmp/celerybeat-schedule" in services["beat"]["command"]


def test_dockerfile_runs_as_a_user_and_collects_static_files():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"
    assert "collectstatic --noinput" in dockerfile
    assert "gunicorn" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".env" in ignored and ".git" in ignored, "secrets and history must stay out of the image"


def test_env_example_documents_every_variable_the_settings_read():
    read = set()
    for settings_file in sorted((ROOT / "closegap" / "settings").glob("*.py")):
        read |= set(ENV_READ.findall(settings_file.read_text(encoding="utf-8")))
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= read  # the pattern still finds them
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#?\s?([A-Z][A-Z0-9_]*)=", example, re.MULTILINE))
    assert read - documented == set(), "add these to .env.example, with what they do and their default"


@pytest.mark.parametrize("secret", ["", "too-short"], ids=["missing", "short"])
def test_production_settings_refuse_to_start_without_a_proper_secret_key(secret):
    result = run_python(
        ["-c", "import django; django.setup()"],
        DJANGO_SETTINGS_MODULE="closegap.settings.production",
        DJANGO_SECRET_KEY=secret,
        DJANGO_ALLOWED_HOSTS="example.org",
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_settings_pass_the_deploy_checks():
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_SETTINGS_MODULE="closegap.settings.production",
        DJANGO_SECRET_KEY=secret_key(),
        DJANGO_ALLOWED_HOSTS="example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_lifecycle_doc_shows_the_generated_diagram(tmp_path):
    out = StringIO()
    call_command("lifecycle_diagram", stdout=out)
    printed = out.getvalue()
    # Written out by hand, not derived from the table: the command prints the graph DESIGN.md draws.
    for edge in (
        "[*] --> pledged",
        "pledged --> received: receive",
        "received --> inspected: inspect (pass)",
        "sanitised --> to_recycle: inspect (fail)",
        "configured --> allocated: allocate [sanitised]",
        "allocated --> shipped: ship [sanitised]",
        "to_recycle --> recycled: recycle [sanitised or destroyed]",
    ):
        assert f"    {edge}\n" in printed
    doc = (ROOT / "docs" / "lifecycle.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```mermaid\n(.*?)```", doc, re.DOTALL)
    assert blocks, "docs/lifecycle.md has no ```mermaid block"
    assert blocks[0] == printed, "docs/lifecycle.md is out of date: run `python manage.py lifecycle_diagram --write`"
    assert "python manage.py lifecycle_diagram" in doc

    # --write puts the fresh diagram in place of a stale one and leaves the rest of the page as it was.
    stale = tmp_path / "lifecycle.md"
    stale.write_text(doc.replace(blocks[0], "stateDiagram-v2\n    pledged --> shipped: ship\n"), encoding="utf-8")
    call_command("lifecycle_diagram", "--write", str(stale), stdout=StringIO())
    assert stale.read_text(encoding="utf-8") == doc


def test_web_and_worker_share_one_private_volume_for_evidence_archives(compose):
    """The worker writes an evidence archive and web streams it: the same volume, at the folder production reads."""
    services = compose["services"]
    for name in ("web", "worker"):
        service = services[name]
        root = service["environment"]["PRIVATE_FILES_ROOT"]
        assert f"private-files:{root}" in service.get("volumes", []), name
    assert "private-files" in compose["volumes"]
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert f"-o closegap -g closegap -m 750 {services['web']['environment']['PRIVATE_FILES_ROOT']}" in dockerfile


def test_production_keeps_private_files_where_no_one_serves_them_and_without_an_address():
    probe = (
        "import django; django.setup(); from django.conf import settings; from common.storage import private_storage;"
        "storage = private_storage(); print(type(storage).__name__, storage.location);"
        "\ntry:\n    storage.url('evidence/x.zip')\nexcept ValueError:\n    print('no address')"
    )
    common = {
        "DJANGO_SETTINGS_MODULE": "closegap.settings.production",
        "DJANGO_SECRET_KEY": secret_key(),
        "DJANGO_ALLOWED_HOSTS": "example.org",
    }
    result = run_python(["-c", probe], **common)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["PrivateFileSystemStorage", "/var/lib/closegap/private", "no", "address"]

    served = run_python(
        ["-c", "import django; django.setup()"], PRIVATE_FILES_ROOT=str(ROOT / "staticfiles" / "x"), **common
    )
    assert served.returncode != 0 and "PRIVATE_FILES_ROOT must not be inside" in served.stderr
