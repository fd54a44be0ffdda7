"""Walk-in applications at the window (线上线下一体), one-thing bundles, and two clerks acting at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection

from yiwang.cases import selectors, services
from yiwang.cases.constants import CaseStatus, Channel, Provenance, TrustLevel
from yiwang.cases.models import Bundle, BundleItem, Case, CaseTransition, MaterialFile
from yiwang.cases.tests.conftest import pdf
from yiwang.catalogue.models import ItemVersion
from yiwang.common.errors import DomainError, InvalidInput, InvalidTransition, PermissionDenied
from yiwang.identity.tests.people import PEOPLE


def _walk_in_data(version: ItemVersion) -> dict[str, Any]:
    person = PEOPLE["citizen"]
    return {
        "applicant_name": person.name,
        "applicant_id_number": person.id_number,
        "phone": person.phone,
        "address": "浙江省杭州市西湖区文三路1号",
    }


@pytest.mark.django_db
def test_a_clerk_enters_a_walk_in_application_and_originals_checked_are_level_b(
    clerk: User, citizen: User, item: ItemVersion
) -> None:
    person = PEOPLE["citizen"]
    case = services.window_apply(
        actor=clerk,
        version=item,
        id_number=person.id_number,
        name=person.name,
        data=_walk_in_data(item),
        uploads={0: pdf("form.pdf", b"1"), 1: pdf("id.pdf", b"2")},
        originals_checked=[1],
        idempotency_key="walk-1",
    )
    assert case.status == CaseStatus.SUBMITTED and case.channel == Channel.WINDOW
    levels = {m.slot: (m.provenance, m.trust_level) for m in case.materials.all()}
    assert levels == {0: (Provenance.UPLOAD, TrustLevel.C), 1: (Provenance.WINDOW, TrustLevel.B)}
    # The person's own account sees the walk-in case: cases belong to the ID number.
    assert list(selectors.my_cases(citizen)) == [case]
    again = services.window_apply(
        actor=clerk,
        version=item,
        id_number=person.id_number,
        name=person.name,
        data=_walk_in_data(item),
        uploads={},
        idempotency_key="walk-1",
    )
    assert again.pk == case.pk


@pytest.mark.django_db
def test_walk_in_refuses_what_the_register_does_not_confirm_and_other_roles(
    clerk: User, reviewer_a: User, reviewer_b: User, item: ItemVersion, citizen: User
) -> None:
    person = PEOPLE["citizen"]
    data = _walk_in_data(item)
    with pytest.raises(InvalidInput):
        services.window_apply(actor=clerk, version=item, id_number=person.id_number, name="李鬼", data=data, uploads={})
    with pytest.raises(InvalidInput):
        services.window_apply(
            actor=clerk, version=item, id_number="330106199003070130", name=person.name, data=data, uploads={}
        )
    for who in (reviewer_a, reviewer_b):
        with pytest.raises(PermissionDenied):
            services.window_apply(
                actor=who, version=item, id_number=person.id_number, name=person.name, data=data, uploads={}
            )
    assert not Case.objects.exists() and not MaterialFile.objects.exists()


@pytest.fixture
def restaurant(published: Callable[..., ItemVersion], item: ItemVersion) -> Bundle:
    """开餐馆: the business licence item plus a food business licence with an overlapping material list."""
    food = published(
        name="食品经营许可",
        basic_code="000131017000",
        handling_item_code="00013101700001",
        materials=[
            {"name": "经营者身份证明", "required": True, "source": "government", "originals": 1, "copies": 0},
            {"name": "食品安全管理制度", "required": True, "source": "applicant", "originals": 1, "copies": 0},
        ],
    )
    bundle = Bundle.objects.create(code="open-restaurant", name="开餐馆", name_en="Opening a restaurant")
    BundleItem.objects.create(bundle=bundle, item=item.item, position=0)
    BundleItem.objects.create(bundle=bundle, item=food.item, position=1)
    return bundle


@pytest.mark.django_db
def test_a_bundle_fans_out_to_one_case_per_item_with_one_set_of_materials(
    citizen: User, restaurant: Bundle, item: ItemVersion
) -> None:
    application = services.apply_bundle(
        actor=citizen,
        bundle=restaurant,
        data=_walk_in_data(item),
        uploads={"个体工商户登记（备案）申请书": pdf("a.pdf", b"a"), "食品安全管理制度": pdf("b.pdf", b"b")},
        pledged=["经营者身份证明"],
        idempotency_key="bundle-1",
    )
    cases = list(application.cases.order_by("id"))
    assert [c.item_name for c in cases] == ["个体工商户登记", "食品经营许可"]
    assert all(c.status == CaseStatus.SUBMITTED and c.number for c in cases)
    # The shared material was pledged once for both; each file is stored once.
    assert {m.provenance for c in cases for m in c.materials.filter(name="经营者身份证明")} == {Provenance.PLEDGE}
    assert MaterialFile.objects.count() == 2
    assert selectors.combined_status(application) == CaseStatus.SUBMITTED
    again = services.apply_bundle(
        actor=citizen, bundle=restaurant, data=_walk_in_data(item), uploads={}, idempotency_key="bundle-1"
    )
    assert again.pk == application.pk and Case.objects.count() == 2


@pytest.mark.django_db
def test_a_bundle_refuses_unknown_or_unpledgeable_materials(
    citizen: User, restaurant: Bundle, item: ItemVersion
) -> None:
    with pytest.raises(InvalidInput):
        services.apply_bundle(
            actor=citizen, bundle=restaurant, data=_walk_in_data(item), uploads={"不存在的材料": pdf()}
        )
    with pytest.raises(InvalidInput):
        services.apply_bundle(
            actor=citizen, bundle=restaurant, data=_walk_in_data(item), uploads={}, pledged=["食品安全管理制度"]
        )
    assert not Case.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_clerks_accepting_at_the_same_moment_accept_once(
    clerk: User, submitted: Callable[..., Case], system: Any
) -> None:
    from yiwang.identity import services as identity
    from yiwang.identity.constants import Role

    case = submitted()
    colleague = identity.create_staff(
        actor=system,
        username="clerk-2",
        name="钱七",
        department=case.department,
        division_code="330106",
        roles=[str(Role.WINDOW_CLERK)],
        password="Another-Passw0rd!",
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(who: User) -> None:
        try:
            stale = Case.objects.get(pk=case.pk)
            barrier.wait()
            services.accept(actor=who, case=stale)
            outcomes.append("accepted")
        except (InvalidTransition, DomainError):
            outcomes.append("refused")
        except Exception as exc:  # SQLite may refuse the second writer outright: also "not twice"
            outcomes.append(f"error:{type(exc).__name__}")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(who,)) for who in (clerk, colleague)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("accepted") == 1, outcomes
    assert CaseTransition.objects.filter(case=case, action="accept").count() == 1
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED


@pytest.mark.django_db
def test_a_walk_in_with_one_bad_file_stores_none_of_them(clerk: User, item: ItemVersion) -> None:
    from pathlib import Path

    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile

    def files() -> set[Path]:
        return {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}

    before = files()
    person = PEOPLE["citizen"]
    with pytest.raises(InvalidInput):
        services.window_apply(
            actor=clerk,
            version=item,
            id_number=person.id_number,
            name=person.name,
            data=_walk_in_data(item),
            uploads={0: pdf("good.pdf", b"good"), 1: SimpleUploadedFile("bad.pdf", b"MZ not a pdf")},
        )
    assert not Case.objects.exists() and not MaterialFile.objects.exists()
    assert files() == before
