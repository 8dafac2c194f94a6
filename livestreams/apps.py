from django.apps import AppConfig


class LivestreamsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "livestreams"
