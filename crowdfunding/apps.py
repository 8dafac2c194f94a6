from django.apps import AppConfig


class CrowdfundingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "crowdfunding"

    def ready(self) -> None:
        from crowdfunding.moments import funders_notify_started
        from livestreams.signals import stream_started

        # Sent inside the start's transaction: the funders' notifications commit with it.
        stream_started.connect(
            lambda sender, stream, **kwargs: funders_notify_started(stream),
            sender=None,
            weak=False,
            dispatch_uid="crowdfunding.funders_notify_started",
        )
