"""The API's JSON parser: DRF's, refusing text with a NUL character (see ``common.security``)."""

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from .security import contains_nul


class JSONParser(parsers.JSONParser):
    """A JSON body whose text (a key or a value, at any depth) holds ``\\u0000`` is a 400, not a database error.

    DRF's text fields already refuse it; a related field looked up by a code (``"hub": "BE-BRU"``) does not,
    and PostgreSQL raises on the lookup.
    """

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        if contains_nul(data):
            raise ParseError("Text in the request body may not contain NUL (\\u0000) characters.")
        return data
