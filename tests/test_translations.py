"""The French and Dutch catalogues are complete: no string of ours is untranslated or fuzzy.

``makemessages`` runs over a copy of the source tree (never over the working tree, which a test must not
change), then ``msgfmt --statistics`` counts each catalogue. A string added to the code without its French and
Dutch translations makes this test fail, as the second test shows. Needs GNU gettext (xgettext, msgmerge,
msgfmt): tests marked ``gettext`` skip without it locally, and CI installs it and requires them.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.gettext

ROOT = Path(settings.BASE_DIR)
# What makemessages reads: the apps, the project package, the templates and our own scripts.
SOURCES = ["closegap", "hubs", "refurbishing", "donations", "projects", "impact", "demo", "templates", "static/js"]
LANGUAGES = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
FIGURE = {
    kind: re.compile(rf"(\d+) {kind} (?:messages?|translations?)") for kind in ("translated", "fuzzy", "untranslated")
}


def copy_tree(destination: Path) -> Path:
    for name in SOURCES:
        source = ROOT / name
        if source.exists():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("tests", "__pycache__", "*.mo"))
    shutil.copytree(ROOT / "locale", destination / "locale", ignore=shutil.ignore_patterns("*.mo"))
    shutil.copy(ROOT / "manage.py", destination / "manage.py")
    return destination


def catalogue_statistics(tree: Path) -> dict[str, tuple[int, int, int]]:
    """Run makemessages in ``tree`` and return (translated, fuzzy, untranslated) per catalogue."""
    command = [sys.executable, "manage.py", "makemessages", "--no-obsolete", "--add-location", "file"]
    languages = [arg for code in LANGUAGES for arg in ("-l", code)]
    env = {"PYTHONPATH": f"{tree}:{ROOT}", "DJANGO_SETTINGS_MODULE": "closegap.settings.test", "PATH": _path()}
    subprocess.run(
        [*command, *languages, "-d", "django", "-e", "html,txt,py"], cwd=tree, env=env, check=True, capture_output=True
    )
    if list((tree / "static" / "js").glob("*.js")):
        subprocess.run([*command, *languages, "-d", "djangojs"], cwd=tree, env=env, check=True, capture_output=True)
    figures = {}
    for po in sorted(tree.glob("locale/*/LC_MESSAGES/*.po")):
        out = subprocess.run(
            ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)],
            capture_output=True,
            text=True,
            check=True,
        ).stderr.strip()
        last = out.splitlines()[-1]  # the statistics line comes after any header warnings
        translated, fuzzy, untranslated = (
            int(m.group(1)) if (m := pattern.search(last)) else 0 for pattern in FIGURE.values()
        )
        figures[str(po.relative_to(tree))] = (translated, fuzzy, untranslated)
    return figures


def _path() -> str:
    import os

    return os.environ.get("PATH", "")


def test_every_string_is_translated_into_french_and_dutch(tmp_path):
    figures = catalogue_statistics(copy_tree(tmp_path))

    expected = {f"locale/{code}/LC_MESSAGES/django.po" for code in LANGUAGES}
    assert expected <= set(figures), f"missing catalogues: {sorted(expected - set(figures))}"
    incomplete = {po: f for po, f in figures.items() if f[1] or f[2]}
    assert not incomplete, f"(translated, fuzzy, untranslated) per catalogue: {incomplete}"
    assert all(f[0] > 0 for f in figures.values())


def test_a_new_untranslated_string_is_caught(tmp_path):
    tree = copy_tree(tmp_path)
    (tree / "templates" / "new_page.html").write_text(
        "{% load i18n %}<p>{% translate 'A sentence nobody has translated yet' %}</p>\n", encoding="utf-8"
    )

    figures = catalogue_statistics(tree)

    assert all(f[2] == 1 for po, f in figures.items() if po.endswith("django.po")), figures
