"""``python manage.py embedded_postgres status|restart|stop``: the server memportal starts itself."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from memportal.database import (
    TUNING_FILE,
    embedded_server,
    embedded_server_restart,
    embedded_server_stop,
    server_tuning,
)


class Command(BaseCommand):
    help = "Show, restart (to apply memportal.conf) or stop the embedded PostgreSQL server."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["status", "restart", "stop"])

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if not settings.EMBEDDED_DATABASE:
            raise CommandError("DATABASE_URL is set: this site does not run an embedded server.")
        if action == "stop":
            connection.close()
            embedded_server_stop(settings.BASE_DIR)
            self.stdout.write("stopped")
            return
        if action == "restart":
            connection.close()
            embedded_server_restart(settings.BASE_DIR)
        server = embedded_server(settings.BASE_DIR)
        self.stdout.write(f"data: {server.pgdata}  (settings in {TUNING_FILE})")
        with connection.cursor() as cursor:
            for name, wanted in server_tuning().items():
                cursor.execute("SELECT current_setting(%s, true)", [name])
                current = cursor.fetchone()[0] or "(not loaded)"
                flag = "" if _same(current, wanted) else "   <- differs: restart to apply"
                self.stdout.write(f"  {name} = {current}{flag}")


UNITS = {"kb": 1, "mb": 1024, "gb": 1024**2, "tb": 1024**3}


def _normal(value: str) -> str:
    """'4GB' and '4096MB' are the same setting: compare sizes in kB, everything else as text."""
    text = value.strip("'").strip().lower()
    match = re.fullmatch(r"(\d+)\s*(kb|mb|gb|tb)", text)
    return str(int(match[1]) * UNITS[match[2]]) if match else text


def _same(current: str, wanted: str) -> bool:
    return _normal(current) == _normal(wanted)
