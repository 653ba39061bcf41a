from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "memportal.staff"
    label = "staff"
