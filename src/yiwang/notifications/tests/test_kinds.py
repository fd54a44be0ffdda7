"""The registry of message kinds: the case kinds and their parameters, registering new kinds, rendering."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation
from django.utils.functional import lazystr
from django.utils.translation import gettext_lazy as _

from yiwang.notifications import kinds

BASE = {"case_number", "item_name"}
CASE_KINDS = {
    "case.submitted": set(),
    "case.correction_requested": {"problem_count"},
    "case.resubmitted": set(),
    "case.accepted": {"promised_due"},
    "case.refused": set(),
    "case.deemed_accepted": set(),
    "case.step_advanced": {"step"},
    "case.returned": {"step", "reason"},
    "case.special_procedure_started": {"procedure"},
    "case.special_procedure_ended": {"procedure"},
    "case.decided_approved": set(),
    "case.decided_denied": set(),
    "case.delivered_electronic": set(),
    "case.delivered_pickup": set(),
    "case.delivered_mail": {"tracking_number"},
    "case.withdrawn": set(),
    "case.task_assigned": set(),
    "case.warning_yellow": {"due"},
    "case.warning_red": {"due"},
}


@pytest.fixture
def registry() -> Iterator[None]:
    saved = dict(kinds._REGISTRY)
    yield
    kinds._REGISTRY.clear()
    kinds._REGISTRY.update(saved)


@pytest.mark.parametrize(("code", "extra"), sorted(CASE_KINDS.items()))
def test_every_case_kind_is_registered_with_its_parameters(code: str, extra: set[str]) -> None:
    assert kinds.get(code).params == BASE | extra


@pytest.mark.parametrize("code", sorted(CASE_KINDS))
def test_every_case_kind_renders_every_parameter_in_subject_or_body(code: str) -> None:
    params = {name: f"<{name}>" for name in kinds.get(code).params}
    with translation.override("en"):
        subject, body = kinds.render(code, params)
    assert subject and body
    for value in params.values():
        assert value in subject + body
    assert "%(" not in subject + body


def test_rendering_fills_the_placeholders_in_the_active_language() -> None:
    with translation.override("en"):
        subject, body = kinds.render(
            "case.accepted", {"case_number": "N-1", "item_name": "Shop licence", "promised_due": "2026-12-01"}
        )
    assert subject == "Application N-1 accepted"
    assert body == "Your application N-1 for Shop licence has been accepted. A decision is promised by 2026-12-01."


def test_another_app_registers_a_kind_and_its_placeholders_become_its_parameters(registry: None) -> None:
    entry = kinds.register("rating.requested", _("Rate %(item_name)s"), _("How was %(item_name)s on %(day)s?"))
    assert entry.params == {"item_name", "day"}
    assert kinds.get("rating.requested") is entry
    assert "rating.requested" in kinds.codes()
    with translation.override("en"):
        rendered = kinds.render("rating.requested", {"item_name": "X", "day": "Monday"})
    assert rendered == ("Rate X", "How was X on Monday?")


def test_registering_the_same_kind_again_with_the_same_texts_is_harmless(registry: None) -> None:
    first = kinds.register("rating.requested", _("Rate %(item_name)s"), _("Body %(item_name)s"))
    again = kinds.register("rating.requested", _("Rate %(item_name)s"), _("Body %(item_name)s"))
    assert first == again


def test_two_apps_cannot_register_one_kind_with_different_texts(registry: None) -> None:
    kinds.register("rating.requested", _("Rate %(item_name)s"), _("Body"))
    with pytest.raises(ValueError, match="already registered"):
        kinds.register("rating.requested", _("Judge %(item_name)s"), _("Body"))


@pytest.mark.parametrize("code", ["Case.Submitted", "submitted", "case..x", "case.x y", ""])
def test_a_kind_code_is_dotted_lower_case(registry: None, code: str) -> None:
    with pytest.raises(ValueError, match="dotted lower-case"):
        kinds.register(code, _("Subject"), _("Body"))


@pytest.mark.parametrize("text", ["%s applied", "%(n)d days", "100% done"])
def test_only_named_text_placeholders_are_allowed(registry: None, text: str) -> None:
    with pytest.raises(ValueError, match="named"):
        kinds.register("test.kind", _("Subject"), lazystr(text))


def test_an_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(kinds.UnknownKind, match=r"case\.nonexistent"):
        kinds.get("case.nonexistent")
    assert not kinds.is_registered("case.nonexistent")


def test_a_stored_message_of_a_kind_no_longer_registered_still_shows_its_code() -> None:
    assert kinds.render("gone.kind", {"x": 1}) == ("gone.kind", "")
