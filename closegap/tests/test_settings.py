"""Settings come from the environment; a .env file is read only when DJANGO_READ_DOT_ENV_FILE=true asks for it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
# Imports a settings module in a fresh interpreter and prints the files it asked django-environ to read.
READ_FILES = """
import json, environ
read = []
environ.Env.read_env = classmethod(lambda cls, env_file=None, **kwargs: read.append(str(env_file)))
import importlib
importlib.import_module("closegap.settings." + {module!r})
print(json.dumps(read))
"""


def files_read_by(module: str, **env: str) -> list[str]:
    child_env = {key: value for key, value in os.environ.items() if key != "DJANGO_READ_DOT_ENV_FILE"}
    result = subprocess.run(
        [sys.executable, "-c", READ_FILES.format(module=module)],
        cwd=ROOT,
        env={**child_env, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("module", ["test", "local"])
def test_a_dot_env_file_is_not_read_unless_asked(module):
    assert files_read_by(module) == []
    assert files_read_by(module, DJANGO_READ_DOT_ENV_FILE="false") == []


def test_a_dot_env_file_is_read_when_asked():
    assert files_read_by("local", DJANGO_READ_DOT_ENV_FILE="true") == [str(ROOT / ".env")]


def test_local_settings_treat_an_empty_secret_key_as_unset():
    # A .env copied from .env.example has "DJANGO_SECRET_KEY=" with nothing after it.
    code = "import closegap.settings.local as s; print(bool(s.SECRET_KEY))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SECRET_KEY": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "True", result.stderr
