from django.apps import AppConfig


class CrowdfundingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "crowdfunding"
