from django.apps import AppConfig


class YouConfig(AppConfig):
    name = "memportal.you"
    label = "you"
    verbose_name = "Your data"
