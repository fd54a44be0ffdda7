from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "yiwang.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from yiwang.common import outbox
        from yiwang.notifications import delivery

        outbox.subscribe(delivery.TOPIC, delivery.deliver)
