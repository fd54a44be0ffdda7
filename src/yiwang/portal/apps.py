from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "yiwang.portal"
    label = "portal"
    verbose_name = _("Public portal")

    def ready(self) -> None:
        from yiwang.common import outbox
        from yiwang.portal.warming import warm_published_version

        outbox.subscribe("catalogue.version.published", warm_published_version)
