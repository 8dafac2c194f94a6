from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "allmine.jobs"
    label = "jobs"
    verbose_name = "Job queue"
