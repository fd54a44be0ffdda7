"""``yiwang registers_demo``: the fixed demo people and entities (yiwang.registers.demo; idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from yiwang.audit.actors import SystemActor
from yiwang.registers.demo import load_demo_registers


class Command(BaseCommand):
    help = "Load the demo people (张三, 李四, 王五, 赵六) and entities into the base registers (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        people, entities = load_demo_registers(actor=SystemActor("demo"))
        self.stdout.write(
            _("Demo registers: %(people)d people, %(entities)d legal entities.")
            % {"people": len(people), "entities": len(entities)}
        )
