from django.apps import AppConfig


class MemoryConfig(AppConfig):
    name = "memportal.memory"
    label = "memory"
    verbose_name = "Memory service"
