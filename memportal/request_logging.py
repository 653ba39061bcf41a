"""Request logs without query strings.

Search pages carry what a person looked for in the URL (``/you/search/?q=my+diagnosis``), and
log files are out of erasure's reach, so request lines and paths are logged without their
query string. Installed on Django's ``django.server`` and ``django.request`` loggers and on
every handler in ``settings.LOGGING``; gunicorn's access log gets the same from gunicorn.conf.py.
"""

from __future__ import annotations

import logging
import re

# A path (or absolute URL) followed by "?query": the query runs to whitespace, a quote or "#".
_QUERY_STRING = re.compile(r"(?P<path>/[^\s?\"'#]*)\?[^\s\"'#]*")


def strip_query_strings(text: str) -> str:
    return _QUERY_STRING.sub(r"\g<path>", text)


class StripQueryStrings(logging.Filter):
    """Rewrite a record whose message holds a URL with a query string; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: the handler reports it as it would anyway
            return True
        cleaned = strip_query_strings(message)
        if cleaned != message:
            # The rendered message, not the template: the query may sit in any argument, and a
            # record with no args is never %-formatted again, so "%" in the path stays literal.
            record.msg, record.args = cleaned, ()
        return True
