"""Pagination that costs the same on page 1 and page 10,000, with no COUNT(*) over millions of rows."""

from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
