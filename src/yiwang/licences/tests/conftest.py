"""The licences fixture world: the platform's PKI (ECDSA, fast to make), the business-licence type that the test
item's result names, and licences issued the way production issues them — by approving a case."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from yiwang.cases.models import Case
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.identity.models import Enterprise
from yiwang.licences import issuance, services, types
from yiwang.licences.constants import HolderKind
from yiwang.licences.models import Licence, LicenceType, SigningCertificate
from yiwang.licences.tests.test_types import BUSINESS_LICENCE
from yiwang.workbench.tests import case_world


@pytest.fixture
def platform_pki(admin: User, department_a: Organisation) -> SigningCertificate:
    """The CA, the time-stamp certificate and department A's seal (returned)."""
    services.create_platform_ca(actor=admin)
    services.issue_timestamp_certificate(actor=admin)
    return services.issue_seal(actor=admin, department=department_a)


@pytest.fixture
def business_licence_type(admin: User) -> LicenceType:
    return types.define(actor=admin, definition=BUSINESS_LICENCE)


@pytest.fixture
def item(published: Callable[..., ItemVersion]) -> ItemVersion:
    """个体工商户登记 of department A: its result is a business licence (11100000000013338W032)."""
    return published()


@pytest.fixture
def approve(
    citizen: User, clerk: User, reviewer_a: User, item: ItemVersion, platform_pki: SigningCertificate
) -> Callable[..., Case]:
    """Take a citizen's case through acceptance, review and approval (the licence is issued on approval)."""

    def make(applicant: User | None = None) -> Case:
        return case_world.decided(applicant or citizen, clerk, reviewer_a, item)

    return make


@pytest.fixture
def licence(approve: Callable[..., Case], business_licence_type: LicenceType) -> Licence:
    """The citizen's business licence, issued by approving their case."""
    return Licence.objects.get(case=approve())


@pytest.fixture
def enterprise_licence(
    admin: User,
    department_a: Organisation,
    platform_pki: SigningCertificate,
    business_licence_type: LicenceType,
    enterprise: Enterprise,
) -> Licence:
    """The ``enterprise`` fixture's licence, issued directly (as the demo and the bench do)."""
    holder = issuance.Holder(enterprise.name, HolderKind.ORGANISATION, enterprise.uscc)
    return issuance.issue(
        actor=admin,
        licence_type=business_licence_type,
        issuer=department_a,
        holder=holder,
        data={"holder": holder.name, "address": "浙江省杭州市西湖区文三路1号", "scope": "餐饮服务"},
        region_code="330106",
    )
