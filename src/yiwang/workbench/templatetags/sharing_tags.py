"""Template tags of the data-sharing pages: which of a resource's actions the viewer may take."""

from __future__ import annotations

from typing import Any

from django import template

from yiwang.sharing.models import Resource
from yiwang.workbench import sharing_resource_views

register = template.Library()


@register.simple_tag
def may_register_resource(user: Any) -> bool:
    """Whether ``user`` registers resources (for their department; administrators for any)."""
    return sharing_resource_views.may_register(user)


@register.simple_tag
def may_manage_resource(user: Any, resource: Resource) -> bool:
    """Whether ``user`` edits and retires ``resource``."""
    return sharing_resource_views.may_manage(user, resource)
