from django.urls import path

from . import views

app_name = "you"
urlpatterns = [
    path("", views.memory_list, name="list"),
]
