from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "yiwang.identity"
    verbose_name = _("Identity")

    def ready(self) -> None:
        from yiwang.common import outbox
        from yiwang.identity import messaging

        outbox.subscribe(messaging.TOPIC, messaging.deliver)
