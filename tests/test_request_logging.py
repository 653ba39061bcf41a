"""Request logs never hold a query string: a search page's query is what a person looked for."""

from __future__ import annotations

import io
import logging
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.servers.basehttp import WSGIRequestHandler
from django.http import HttpResponse
from django.utils.log import ServerFormatter, log_response

from memportal.request_logging import StripQueryStrings, strip_query_strings

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET = "my+diagnosis"


def _has_filter(filterer: logging.Filterer) -> bool:
    return any(isinstance(f, StripQueryStrings) for f in filterer.filters)


@pytest.mark.parametrize("text, expected", [
    ("GET /you/search/?q=my+diagnosis HTTP/1.1", "GET /you/search/ HTTP/1.1"),
    ('"GET /you/search/?q=a&page=2 HTTP/1.1" 200 512', '"GET /you/search/ HTTP/1.1" 200 512'),
    ("Not Found: /staff/concierge_app/?q=x#top", "Not Found: /staff/concierge_app/#top"),
    ("from http://example.com/you/search/?q=pain to /you/", "from http://example.com/you/search/ to /you/"),
    ("Bad request syntax ('GET /you/search/?q=x HTTP/1.1')", "Bad request syntax ('GET /you/search/ HTTP/1.1')"),
    ("GET /you/search/?q=100%25 HTTP/1.1", "GET /you/search/ HTTP/1.1"),
    ("GET /you/ HTTP/1.1", "GET /you/ HTTP/1.1"),
    ("Is this a question? yes", "Is this a question? yes"),
])
def test_strip_query_strings(text, expected):
    assert strip_query_strings(text) == expected


def test_the_filter_rewrites_message_and_args_and_keeps_percent_signs_literal():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, '"%s" %s %s',
                               ("GET /a%20b/?q=my+diagnosis HTTP/1.1", "200", "5"), None)
    assert StripQueryStrings().filter(record) is True
    assert record.getMessage() == '"GET /a%20b/ HTTP/1.1" 200 5'
    assert StripQueryStrings().filter(record) and record.getMessage() == '"GET /a%20b/ HTTP/1.1" 200 5'


def test_records_without_a_query_are_left_untouched():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s items", (3,), None)
    StripQueryStrings().filter(record)
    assert record.msg == "%s items" and record.args == (3,)


def _configured_handlers(name: str) -> list[logging.Handler]:
    """The handlers settings.LOGGING put on a logger (pytest adds its own capturing ones)."""
    handlers = [h for h in logging.getLogger(name).handlers if type(h).__module__ == "logging"]
    assert handlers, name
    return handlers


def test_django_request_and_server_loggers_and_their_handlers_strip_query_strings():
    assert _has_filter(logging.getLogger("django.server"))
    assert _has_filter(logging.getLogger("django.request"))  # runs before the record propagates
    assert all(_has_filter(h) for h in _configured_handlers("django.server") + _configured_handlers(""))


def test_a_runserver_access_line_is_written_without_its_query():
    """runserver's own logging call, through the handler settings.LOGGING configured."""
    (handler,) = [h for h in _configured_handlers("django.server") if isinstance(h.formatter, ServerFormatter)]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        request_handler = WSGIRequestHandler.__new__(WSGIRequestHandler)
        request_handler.request = None
        request_handler.log_message('"%s" %s %s', f"GET /you/search/?q={SECRET} HTTP/1.1", "200", "4012")
    finally:
        handler.setStream(previous)
    line = stream.getvalue()
    assert "GET /you/search/ HTTP/1.1" in line and "200 4012" in line
    assert "diagnosis" not in line and "?q=" not in line


def test_a_django_request_warning_is_logged_without_the_query(caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        log_response("Not Found: %s", f"/you/search/?q={SECRET}", response=HttpResponse(status=404))
    assert caplog.records and "Not Found: /you/search/" in caplog.text
    assert "diagnosis" not in caplog.text


def test_gunicorns_access_log_format_omits_query_strings_and_referers(tmp_path):
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    cfg = Config()
    assert cfg.settings["config"].default == "./gunicorn.conf.py"  # gunicorn reads ours from the checkout
    for name, value in runpy.run_path(str(BASE_DIR / "gunicorn.conf.py")).items():
        if name in cfg.settings:
            cfg.set(name, value)
    cfg.set("accesslog", str(tmp_path / "access.log"))
    logger = Logger(cfg)
    environ = {
        "REQUEST_METHOD": "GET", "RAW_URI": f"/you/search/?q={SECRET}", "PATH_INFO": "/you/search/",
        "QUERY_STRING": f"q={SECRET}", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"http://127.0.0.1:8000/you/search/?q={SECRET}", "HTTP_USER_AGENT": "pytest",
    }
    try:
        logger.access(SimpleNamespace(status="200 OK", sent=4012, headers=[]),
                      SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])]), environ,
                      timedelta(milliseconds=12))
    finally:
        for handler in logger.access_log.handlers:
            handler.close()
        logger.access_log.handlers.clear()
    line = (tmp_path / "access.log").read_text()
    assert '"GET /you/search/ HTTP/1.1" 200 4012' in line and "pytest" in line
    assert "diagnosis" not in line
