"""Audit the installed dependencies with pip-audit; fail on a known vulnerability that has a fixed release.

Reads pip-audit's JSON report on stdin (`pip-audit -l --skip-editable -f json | python .ci/audit_dependencies.py`).
A dependency pip-audit could not look up (its advisory service unreachable, as on a machine whose network only
reaches the package index) is counted and printed, never passed over in silence: the run then says plainly how
much of the audit actually happened.
"""

import json
import sys


def main() -> int:
    report = json.load(sys.stdin)
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = [d for d in dependencies if not d.get("skip_reason")]
    fixable, unfixed = [], []
    for dependency in audited:
        for vuln in dependency.get("vulns", []):
            line = f"{dependency['name']} {dependency['version']}: {vuln['id']}"
            if vuln.get("fix_versions"):
                fixable.append(f"{line} (fixed in {', '.join(vuln['fix_versions'])})")
            else:
                unfixed.append(f"{line} (no fixed release yet)")
    print(f"pip-audit: {len(audited)} dependencies audited, {len(skipped)} could not be looked up")
    if skipped and not audited:
        print("  No advisory data was reachable from this machine: nothing was audited. Run `make audit` where the")
        print("  advisory service is reachable.")
    for line in unfixed:
        print("  known, no fix yet:", line)
    for line in fixable:
        print("  VULNERABLE, upgrade:", line)
    return 1 if fixable else 0


if __name__ == "__main__":
    sys.exit(main())
