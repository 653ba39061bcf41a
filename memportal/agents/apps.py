from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "memportal.agents"
    label = "agents"
