"""Grants: asking, approving (as asked or narrowed), refusing, revoking and withdrawing, with every refusal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User

from yiwang.audit.models import AuditRecord
from yiwang.catalogue.models import Organisation
from yiwang.common.errors import InvalidInput, InvalidTransition, PermissionDenied
from yiwang.sharing import selectors, services
from yiwang.sharing.constants import GrantStatus
from yiwang.sharing.models import Grant, Resource
from yiwang.sharing.tests import catalogue_world
from yiwang.sharing.tests.catalogue_world import in_days, resource_data

pytestmark = pytest.mark.django_db

# The shared fixtures (a resource of department A, B's request for it, the population register).
resource_a = catalogue_world.resource_a
request_b = catalogue_world.request_b
population = catalogue_world.population


def _ask(actor: User, resource: Resource, consumer: Organisation, **overrides: Any) -> Grant:
    values: dict[str, Any] = {
        "fields": ["owner"],
        "purposes": ["办理不动产登记"],
        "until": in_days(100),
        "rate_per_minute": 60,
    }
    values.update(overrides)
    return services.request_grant(actor=actor, resource=resource, consumer=consumer, **values)


def test_a_request_records_what_was_asked_and_waits_for_the_provider(request_b: Grant) -> None:
    assert request_b.status == GrantStatus.REQUESTED
    assert request_b.requested_fields == ["owner", "location"]
    assert request_b.requested_purposes == ["办理不动产登记", "办理公积金提取"]
    assert request_b.requested_rate == 120
    assert request_b.fields == []
    assert AuditRecord.objects.filter(action="sharing.grant_requested", object_id=str(request_b.pk)).exists()


def test_approval_as_asked_is_valid_from_the_decision_day(reviewer_a: User, request_b: Grant) -> None:
    grant = services.approve_grant(actor=reviewer_a, grant=request_b)
    assert grant.status == GrantStatus.APPROVED
    assert grant.fields == ["owner", "location"]
    assert grant.purposes == request_b.requested_purposes
    assert grant.valid_from == services.today()
    assert grant.valid_until == in_days(200)
    assert grant.rate_per_minute == 120
    assert grant.decided_by == reviewer_a


def test_the_provider_narrows_fields_purposes_items_date_and_rate(
    reviewer_a: User, reviewer_b: User, department_b: Organisation, resource_a: Resource, published: Any
) -> None:
    codes = [published().implementation_code]
    asked = _ask(
        reviewer_b, resource_a, department_b, fields=["owner", "location", "area"], purposes=["甲", "乙"], items=codes
    )
    grant = services.approve_grant(
        actor=reviewer_a,
        grant=asked,
        fields=["area"],
        purposes=["乙"],
        items=codes,
        until=in_days(30),
        rate_per_minute=10,
    )
    assert (grant.fields, grant.purposes, grant.items) == (["area"], ["乙"], codes)
    assert (grant.valid_until, grant.rate_per_minute) == (in_days(30), 10)
    assert grant.requested_fields == ["owner", "location", "area"]  # what was asked stays beside what was granted


@pytest.mark.parametrize(
    ("narrowing", "field"),
    [
        ({"fields": ["area"]}, "fields"),  # not asked for
        ({"fields": []}, "fields"),
        ({"purposes": ["别的用途"]}, "purposes"),
        ({"purposes": []}, "purposes"),
        ({"until": in_days(201)}, "until"),
        ({"until": in_days(-1)}, "until"),
        ({"rate_per_minute": 121}, "rate_per_minute"),
        ({"rate_per_minute": 0}, "rate_per_minute"),
        ({"items": ["no-such-item"]}, "items"),
    ],
)
def test_a_decision_cannot_widen_a_request(
    reviewer_a: User, request_b: Grant, narrowing: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        services.approve_grant(actor=reviewer_a, grant=request_b, **narrowing)
    assert caught.value.details[0]["field"] == field
    request_b.refresh_from_db()
    assert request_b.status == GrantStatus.REQUESTED


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"fields": ["owner", "salary"]}, "fields", "unknown"),
        ({"fields": []}, "fields", "required"),
        ({"purposes": []}, "purposes", "required"),
        ({"purposes": ["办理", "  "]}, "purposes", "empty"),
        ({"purposes": ["长" * 201]}, "purposes", "too_long"),
        ({"purposes": [f"p{i}" for i in range(21)]}, "purposes", "too_many"),
        ({"until": in_days(-1)}, "until", "past"),
        ({"until": None}, "until", "required"),
        ({"until": in_days(5 * 366)}, "until", "too_late"),
        ({"rate_per_minute": 0}, "rate_per_minute", "out_of_range"),
        ({"rate_per_minute": 6001}, "rate_per_minute", "out_of_range"),
        ({"items": ["11330106000000000X4000000000000"]}, "items", "unknown"),
        ({"justification": "长" * 2001}, "justification", "too_long"),
    ],
)
def test_bad_requests_are_refused_and_nothing_is_stored(
    reviewer_b: User, department_b: Organisation, resource_a: Resource, overrides: dict[str, Any], field: str, code: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        _ask(reviewer_b, resource_a, department_b, **overrides)
    assert (caught.value.details[0]["field"], caught.value.details[0]["code"]) == (field, code)
    assert not Grant.objects.exists()


def test_not_shared_and_retired_resources_cannot_be_granted(
    manager: User, reviewer_b: User, department_a: Organisation, department_b: Organisation, resource_a: Resource
) -> None:
    closed = services.register_resource(
        actor=manager,
        provider=department_a,
        **resource_data(code="closed", name="不予共享的库", sharing_type="not_shared"),
    )
    with pytest.raises(InvalidInput) as caught:
        _ask(reviewer_b, closed, department_b, fields=["owner"])
    assert caught.value.details[0]["code"] == "not_shared"
    services.retire_resource(actor=manager, resource=resource_a, reason="下线")
    with pytest.raises(InvalidInput) as caught:
        _ask(reviewer_b, resource_a, department_b)
    assert caught.value.details[0]["code"] == "retired"


def test_an_unconditional_resource_is_granted_at_request_time_to_a_registered_consumer(
    manager: User, reviewer_b: User, department_a: Organisation, department_b: Organisation
) -> None:
    open_resource = services.register_resource(
        actor=manager, provider=department_a, **resource_data(sharing_type="unconditional", sharing_conditions="")
    )
    grant = _ask(reviewer_b, open_resource, department_b, fields=["owner", "area"])
    assert grant.status == GrantStatus.APPROVED
    assert grant.fields == ["owner", "area"]
    assert grant.decided_by is None
    assert grant.valid_from == services.today()


def test_only_the_consumers_own_staff_ask_for_it(
    reviewer_a: User, clerk: User, citizen: User, department_b: Organisation, resource_a: Resource
) -> None:
    for actor in (reviewer_a, clerk, citizen):
        with pytest.raises(PermissionDenied):
            _ask(actor, resource_a, department_b)


def test_a_provider_may_ask_for_its_own_resource(
    reviewer_a: User, department_a: Organisation, resource_a: Resource
) -> None:
    grant = _ask(reviewer_a, resource_a, department_a)
    assert services.approve_grant(actor=reviewer_a, grant=grant).status == GrantStatus.APPROVED


def test_a_second_open_request_for_the_same_resource_is_refused(
    reviewer_b: User, department_b: Organisation, resource_a: Resource, request_b: Grant
) -> None:
    with pytest.raises(InvalidTransition):
        _ask(reviewer_b, resource_a, department_b)


def test_only_the_provider_decides_and_administrators_decide_for_the_platform(
    reviewer_a: User, reviewer_b: User, admin: User, department_b: Organisation, request_b: Grant, population: Resource
) -> None:
    with pytest.raises(PermissionDenied):
        services.approve_grant(actor=reviewer_b, grant=request_b)
    with pytest.raises(PermissionDenied):
        services.refuse_grant(actor=reviewer_b, grant=request_b, reason="不行")
    platform = _ask(reviewer_b, population, department_b, fields=["name", "birth_date"])
    with pytest.raises(PermissionDenied):
        services.approve_grant(actor=reviewer_a, grant=platform)
    assert services.approve_grant(actor=admin, grant=platform).status == GrantStatus.APPROVED


def test_refusal_and_revocation_need_a_reason(reviewer_a: User, request_b: Grant) -> None:
    with pytest.raises(InvalidInput):
        services.refuse_grant(actor=reviewer_a, grant=request_b, reason=" ")
    grant = services.approve_grant(actor=reviewer_a, grant=request_b)
    with pytest.raises(InvalidInput):
        services.revoke_grant(actor=reviewer_a, grant=grant, reason="")
    with pytest.raises(InvalidInput):
        services.revoke_grant(actor=reviewer_a, grant=grant, reason="长" * 1001)
    revoked = services.revoke_grant(actor=reviewer_a, grant=grant, reason="用途已结束")
    assert (revoked.status, revoked.revoke_reason, revoked.revoked_by) == (
        GrantStatus.REVOKED,
        "用途已结束",
        reviewer_a,
    )


def test_only_valid_transitions_are_allowed(reviewer_a: User, reviewer_b: User, request_b: Grant) -> None:
    with pytest.raises(InvalidTransition):
        services.revoke_grant(actor=reviewer_a, grant=request_b, reason="未批准")
    refused = services.refuse_grant(actor=reviewer_a, grant=request_b, reason="用途不明确")
    assert refused.status == GrantStatus.REFUSED
    with pytest.raises(InvalidTransition):
        services.approve_grant(actor=reviewer_a, grant=refused)
    with pytest.raises(InvalidTransition):
        services.refuse_grant(actor=reviewer_a, grant=refused, reason="again")
    with pytest.raises(InvalidTransition):
        services.withdraw_grant(actor=reviewer_b, grant=refused)


def test_the_consumer_withdraws_a_pending_request_only(
    reviewer_a: User, reviewer_b: User, department_b: Organisation, resource_a: Resource, request_b: Grant
) -> None:
    with pytest.raises(PermissionDenied):
        services.withdraw_grant(actor=reviewer_a, grant=request_b)
    assert services.withdraw_grant(actor=reviewer_b, grant=request_b).status == GrantStatus.WITHDRAWN
    approved = services.approve_grant(actor=reviewer_a, grant=_ask(reviewer_b, resource_a, department_b))
    with pytest.raises(InvalidTransition):
        services.withdraw_grant(actor=reviewer_b, grant=approved)


def test_each_department_sees_the_grants_it_provides_and_consumes(
    reviewer_a: User, reviewer_b: User, admin: User, request_b: Grant, resource_a: Resource
) -> None:
    assert list(selectors.provided_grants(reviewer_a)) == [request_b]
    assert list(selectors.provided_grants(reviewer_b)) == []
    assert list(selectors.consumed_grants(reviewer_b)) == [request_b]
    assert list(selectors.consumed_grants(reviewer_a)) == []
    assert list(selectors.provided_grants(admin)) == [request_b]
    assert selectors.grants_on(reviewer_b, resource_a) is None
    assert list(selectors.grants_on(reviewer_a, resource_a) or []) == [request_b]


def test_a_request_outlasting_its_day_can_only_be_refused(reviewer_a: User, request_b: Grant) -> None:
    Grant.objects.filter(pk=request_b.pk).update(requested_until=services.today() - dt.timedelta(days=1))
    request_b.refresh_from_db()
    with pytest.raises(InvalidInput):
        services.approve_grant(actor=reviewer_a, grant=request_b)
    assert services.refuse_grant(actor=reviewer_a, grant=request_b, reason="已过期").status == GrantStatus.REFUSED
