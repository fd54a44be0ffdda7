from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _load_reference_data(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    # Divisions are reference data every rule and page needs; a fresh database gets them on migrate.
    from yiwang.audit.actors import SystemActor
    from yiwang.common.models import Division
    from yiwang.common.services import load_divisions

    if not Division.objects.using(using).exists():
        load_divisions(actor=SystemActor("migrate"))


class CommonConfig(AppConfig):
    name = "yiwang.common"
    label = "common"
    verbose_name = _("Reference data")

    def ready(self) -> None:
        post_migrate.connect(_load_reference_data, sender=self)
