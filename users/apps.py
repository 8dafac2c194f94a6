from django.apps import AppConfig


class UsersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "users"

    def ready(self) -> None:
        from users import schema  # noqa: F401  (registers the OpenAPI auth extension)
        from users.services import tokens_revoke_on_password_change
        from users.signals import password_changed

        password_changed.connect(
            tokens_revoke_on_password_change, dispatch_uid="users.tokens_revoke_on_password_change"
        )
