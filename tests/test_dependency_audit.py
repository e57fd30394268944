""".ci/audit_dependencies.py: the CI step fails on a vulnerability with a fix, and says when nothing was audited."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "audit_dependencies.py"


def audit(report: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, SCRIPT], input=json.dumps(report), capture_output=True, text=True)


def test_a_vulnerability_with_a_fixed_release_fails_the_run():
    result = audit(
        {
            "dependencies": [
                {"name": "django", "version": "5.2.0", "vulns": [{"id": "PYSEC-X", "fix_versions": ["5.2.1"]}]}
            ]
        }
    )
    assert result.returncode == 1
    assert "django 5.2.0: PYSEC-X (fixed in 5.2.1)" in result.stdout


def test_a_vulnerability_without_a_fix_is_shown_but_does_not_fail():
    result = audit({"dependencies": [{"name": "x", "version": "1", "vulns": [{"id": "GHSA-1", "fix_versions": []}]}]})
    assert result.returncode == 0
    assert "no fixed release yet" in result.stdout


def test_an_audit_that_reached_no_advisory_data_says_so():
    result = audit({"dependencies": [{"name": "x", "skip_reason": "Dependency not found"}]})
    assert result.returncode == 0
    assert "0 dependencies audited, 1 could not be looked up" in result.stdout
    assert "nothing was audited" in result.stdout


def test_a_clean_audit_passes():
    result = audit({"dependencies": [{"name": "x", "version": "1", "vulns": []}]})
    assert result.returncode == 0 and "1 dependencies audited, 0 could not" in result.stdout
