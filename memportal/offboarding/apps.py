from django.apps import AppConfig


class OffboardingConfig(AppConfig):
    name = "memportal.offboarding"
    label = "offboarding"
