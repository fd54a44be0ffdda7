from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicencesConfig(AppConfig):
    name = "yiwang.licences"
    label = "licences"
    verbose_name = _("Electronic licences")

    def ready(self) -> None:
        # The licence message kinds (suspended, revoked, new version, expiring) register on import.
        from yiwang.licences import lifecycle  # noqa: F401
