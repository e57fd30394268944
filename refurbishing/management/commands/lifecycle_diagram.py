"""Print the device lifecycle as a Mermaid state diagram, generated from ``refurbishing.lifecycle``."""

import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from refurbishing.lifecycle import mermaid_diagram

MERMAID_BLOCK = re.compile(r"(```mermaid\n)(.*?)(```)", re.DOTALL)
DEFAULT_DOC = Path(settings.BASE_DIR) / "docs" / "lifecycle.md"


class Command(BaseCommand):
    help = "Print the device lifecycle as a Mermaid diagram (docs/lifecycle.md embeds this output)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--write",
            nargs="?",
            const=str(DEFAULT_DOC),
            metavar="PATH",
            help="Replace the first ```mermaid block of this Markdown file (default: docs/lifecycle.md) instead "
            "of printing.",
        )

    def handle(self, *args, **options):
        diagram = mermaid_diagram()
        path = options.get("write")
        if not path:
            self.stdout.write(diagram, ending="")
            return
        doc = Path(path)
        text = doc.read_text(encoding="utf-8")
        if not MERMAID_BLOCK.search(text):
            raise CommandError(f"{doc} has no ```mermaid block to replace.")
        doc.write_text(MERMAID_BLOCK.sub(lambda m: m.group(1) + diagram + m.group(3), text, count=1), encoding="utf-8")
        self.stdout.write(f"Updated the lifecycle diagram in {doc}.")
