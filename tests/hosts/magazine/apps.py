from django.apps import AppConfig


class MagazineConfig(AppConfig):
    name = "tests.hosts.magazine"
    label = "magazine"
    verbose_name = "The Weekly Reader"
    default_auto_field = "django.db.models.BigAutoField"
