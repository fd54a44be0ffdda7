"""The case generator (bench data): what it writes keeps the invariants the services keep.

Deadlines are checked against ``cases.deadlines`` itself (the generator counts working days from one calendar
read), statuses against tasks and transitions, applicants against the population register.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from yiwang.audit.actors import SystemActor
from yiwang.audit.models import AuditRecord
from yiwang.cases import deadlines, selectors, services
from yiwang.cases.constants import CaseStatus, StepCode, TaskStatus
from yiwang.cases.generator import STATUS_MIX, GenerationReport, generate_cases, zipf_exponent
from yiwang.cases.models import Case, CaseTask
from yiwang.catalogue.models import ItemVersion
from yiwang.common.errors import InvalidInput
from yiwang.common.masking import mask_id_number
from yiwang.conftest import PASSWORD
from yiwang.identity import authz
from yiwang.identity.models import Account
from yiwang.registers.generator import generate_registers
from yiwang.registers.models import Person

pytestmark = pytest.mark.django_db

OPEN = {CaseStatus.SUBMITTED, CaseStatus.ACCEPTED}


@pytest.fixture
def catalogue(item: ItemVersion, published: Callable[..., ItemVersion]) -> dict[str, ItemVersion]:
    """A 承诺件 (review + decision), a 即办件 (decided on the spot) and an item for organisations only."""
    on_the_spot = published(
        case_type="1",
        time_limits={"statutory": {"value": 3, "unit": "working_day"}, "promised": {"unit": "immediate"}},
    )
    organisations = published(service_objects=["2"])
    return {"promise": item, "on_the_spot": on_the_spot, "organisations": organisations}


@pytest.fixture
def register(system: SystemActor) -> None:
    generate_registers(actor=system, people=120, entities=0, seed=5)


def _generate(system: SystemActor, **overrides: Any) -> GenerationReport:
    options: dict[str, Any] = {
        "cases": 300,
        "seed": 11,
        "batch_size": 120,
        "applicants": 80,
        "heavy": 1,
        "staffed": 1,
        "busiest_share": 0.5,
        "password": PASSWORD,
    }
    return generate_cases(actor=system, **{**options, **overrides})


def test_generated_cases_keep_the_invariants_of_the_services(
    system: SystemActor, catalogue: dict[str, ItemVersion], register: None
) -> None:
    report = _generate(system)
    cases = list(Case.objects.prefetch_related("tasks", "transitions").order_by("pk"))
    assert len(cases) == report.cases == 300
    assert report.tasks == CaseTask.objects.count()
    today = timezone.localdate()
    people = {p.id_number_index: p for p in Person.objects.all()}

    assert {c.version_id for c in cases} <= {catalogue["promise"].pk, catalogue["on_the_spot"].pk}
    assert len({c.number for c in cases}) == 300
    for case in cases:
        # 办件编号 exactly as the services number a submission (region, date of receipt, the case's id).
        assert case.received_on is not None
        assert case.number == services.case_number(case.region_code, case.received_on, case.pk)
        assert case.applicant_id_masked == mask_id_number(case.applicant_id_number)
        person = people[case.applicant_index]  # every applicant is a person of the register
        assert (case.applicant_id_number, case.applicant_name) == (person.id_number, person.name)
        assert case.data["applicant_id_number"] == person.id_number
        assert case.received_on <= today
        assert case.acceptance_due == deadlines.acceptance_due(case.received_on)

        tasks = sorted(case.tasks.all(), key=lambda t: (t.step_index, t.pk))
        open_tasks = [t for t in tasks if t.status == TaskStatus.OPEN]
        assert len(open_tasks) == (1 if case.status in OPEN else 0), case.status
        assert tasks[0].step_code == StepCode.ACCEPT and tasks[0].due == case.acceptance_due
        if case.status == CaseStatus.SUBMITTED:
            assert open_tasks[0].step_code == StepCode.ACCEPT and case.accepted_on is None
        if case.accepted_on is not None:
            promised, statutory = (case.version.content["time_limits"][k] for k in ("promised", "statutory"))
            assert case.promised_due == deadlines.due_date(case.accepted_on, promised)
            assert case.statutory_due == deadlines.due_date(case.accepted_on, statutory)
            for step in tasks[1:]:
                assert step.due == deadlines.step_due(
                    step.started_on, step.days, case_due=case.promised_due or case.statutory_due, today=today
                )
        if case.status == CaseStatus.ACCEPTED:
            assert open_tasks[0].step_code != StepCode.ACCEPT
        if case.status == CaseStatus.WITHDRAWN:
            assert [t.status for t in tasks].count(TaskStatus.CANCELLED) == 1
        if case.status == CaseStatus.DELIVERED:
            assert case.submitted_at <= case.decided_at <= case.delivered_at  # type: ignore[operator]
            assert case.outcome

        transitions = sorted(case.transitions.all(), key=lambda t: (t.at, t.pk))
        assert transitions[0].action == "submit" and transitions[-1].to_status == case.status
        assert case.revision == len(transitions)
        for before, after in itertools.pairwise(transitions):
            assert after.from_status == before.to_status
        assert transitions[0].at == case.submitted_at and case.created_at < case.submitted_at

    statuses = Counter(c.status for c in cases)
    assert statuses.most_common(1)[0][0] == CaseStatus.DELIVERED
    assert set(statuses) <= {s for s, _w in STATUS_MIX}
    assert dict(statuses) == report.statuses
    # One audit record per batch, naming the count only.
    assert [(r.after or {})["cases"] for r in AuditRecord.objects.filter(action="cases.generated").order_by("pk")] == [
        120,
        120,
        60,
    ]


def test_the_heavy_applicant_has_an_account_and_a_long_case_list(
    system: SystemActor, catalogue: dict[str, ItemVersion], register: None
) -> None:
    report = _generate(system)
    heavy = Account.objects.select_related("user").get(id_number_index__in=Case.objects.values("applicant_index"))
    user: User = heavy.user
    assert authz.subject_of(user).verified
    mine = selectors.my_cases(user)
    assert 50 <= mine.count() == report.heaviest_applicant_cases <= 200
    assert all(c.applicant_id == user.pk for c in mine)
    assert {c.channel for c in mine} == {"online"}


def test_the_busiest_department_gets_staff_whose_queues_hold_its_open_tasks(
    system: SystemActor, catalogue: dict[str, ItemVersion], register: None
) -> None:
    report = _generate(system)
    clerk = User.objects.get(username=f"gen-clerk-{catalogue['promise'].department_id}")
    reviewer = User.objects.get(username=f"gen-reviewer-{catalogue['promise'].department_id}")
    assert sorted(report.staff) == sorted([clerk.username, reviewer.username])
    open_tasks = CaseTask.objects.filter(status=TaskStatus.OPEN)
    assert report.open_tasks == open_tasks.count() == report.busiest_open_tasks  # one department here
    clerk_tasks = open_tasks.filter(role="window_clerk")
    assert selectors.staff_queue(clerk).count() == clerk_tasks.count() > 0
    assert selectors.staff_queue(reviewer).count() == open_tasks.exclude(role="window_clerk").count() > 0
    # Claimed tasks are held by the colleague with the step's role.
    for task in open_tasks.exclude(assignee=None):
        assert task.assignee == (clerk if task.role == "window_clerk" else reviewer)
    # Deadlines fall around today: some overdue, some not.
    today = timezone.localdate()
    dues = [t.due for t in open_tasks if t.due is not None]
    assert min(dues) < today <= max(dues)


def test_the_same_seed_draws_the_same_cases(
    system: SystemActor, catalogue: dict[str, ItemVersion], register: None
) -> None:
    first = _generate(system, cases=120)
    second = _generate(system, cases=120)
    firsts = list(Case.objects.order_by("pk").values_list("status", "received_on", "version_id")[:120])
    seconds = list(Case.objects.order_by("pk").values_list("status", "received_on", "version_id")[120:])
    assert first.statuses == second.statuses and firsts == seconds
    assert User.objects.filter(username__startswith="gen-").count() == 2  # staff made once


def test_the_command_reports_what_it_added(catalogue: dict[str, ItemVersion], register: None, capsys: Any) -> None:
    call_command("cases_generate", "--cases", "40", "--heavy", "0", "--applicants", "30", "--no-progress")
    assert Case.objects.count() == 40
    assert "40" in capsys.readouterr().out


@pytest.mark.parametrize(
    "overrides", [{"cases": -1}, {"batch_size": 0}, {"applicants": 0}, {"heavy": -1}, {"busiest_share": 0}]
)
def test_bad_counts_are_refused_and_write_nothing(
    system: SystemActor, catalogue: dict[str, ItemVersion], register: None, overrides: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInput):
        _generate(system, **overrides)
    assert not Case.objects.exists() and not User.objects.filter(username__startswith="gen-").exists()


def test_it_needs_items_for_persons_and_a_register(
    system: SystemActor, published: Callable[..., ItemVersion], register: None
) -> None:
    published(service_objects=["2"])
    with pytest.raises(InvalidInput):
        _generate(system)
    assert not Case.objects.exists()


def test_it_needs_people_in_the_register(system: SystemActor, item: ItemVersion) -> None:
    with pytest.raises(InvalidInput):
        _generate(system)
    assert not Case.objects.exists()


def test_the_busiest_department_gets_the_share_asked_for() -> None:
    for departments, share in ((1000, 0.10), (40, 0.30)):
        s = zipf_exponent(departments, share)
        assert 1 / sum(k**-s for k in range(1, departments + 1)) == pytest.approx(share, rel=1e-6)
    assert zipf_exponent(10, 0.05) == 0.0  # less than an equal share: all departments alike
