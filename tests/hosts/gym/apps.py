from django.apps import AppConfig


class GymConfig(AppConfig):
    name = "tests.hosts.gym"
    label = "gym"
    verbose_name = "Ironworks Gym"
    default_auto_field = "django.db.models.BigAutoField"
