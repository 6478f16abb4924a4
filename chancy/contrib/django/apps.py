"""The Django app config: label ``chancy``, as upstream."""

from __future__ import annotations

from django.apps import AppConfig


class ChancyConfig(AppConfig):
    name = "chancy.contrib.django"
    label = "chancy"
    verbose_name = "Chancy"
    default_auto_field = "django.db.models.BigAutoField"
