from django.apps import AppConfig


class SaasConfig(AppConfig):
    name = "tests.hosts.saas"
    label = "saas"
    verbose_name = "Ledgerly"
    default_auto_field = "django.db.models.BigAutoField"
