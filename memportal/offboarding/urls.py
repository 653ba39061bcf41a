app_name = "offboarding"
urlpatterns: list = []
