"""What a file built by a background task (an evidence archive, a large report's spreadsheet) says of its progress.

Mixed into a model that has ``status`` (its ``Status`` choices with ``DONE`` and ``FAILED``), ``total``, ``done``
and ``error``; the progress pages read ``progress()``, and job-progress.js polls the same dictionary as JSON.
"""

from typing import Any


class BuildProgress:
    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if not self.total:  # not started yet: the task counts the parts as it starts
            return 100 if self.finished else 0
        return int(self.done * 100 / self.total)

    def progress(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "status_label": str(self.get_status_display()),
            "total": self.total,
            "done": self.done,
            "percent": self.percent,
            "finished": self.finished,
            "error": self.error,
        }
