from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SharingConfig(AppConfig):
    name = "yiwang.sharing"
    label = "sharing"
    verbose_name = _("Data sharing")

    def ready(self) -> None:
        # Every change to a resource, its fields or a grant drops the exchange's cached copies (caching.py).
        from yiwang.sharing import caching  # noqa: F401
