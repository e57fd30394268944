"""Pagination that costs the same on page 1 and page 10,000, with no COUNT(*) over millions of rows."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property
from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class CappedCountPaginator(Paginator):
    """An admin paginator whose count stops at ``cap`` rows, so a list of millions never scans them all.

    ``SELECT COUNT(*) FROM (... LIMIT cap + 1)`` costs at most ``cap`` rows however large the table; past the
    cap, the list offers the first ``cap`` rows' worth of pages and asks people to filter or search instead.
    """

    cap = 10_000

    @cached_property
    def count(self) -> int:
        return min(self.object_list[: self.cap + 1].count(), self.cap)
