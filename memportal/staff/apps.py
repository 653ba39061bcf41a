from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "memportal.staff"
    label = "staff"

    def ready(self) -> None:
        from . import signals  # noqa: F401
