"""Settings readers fail loudly on bad values instead of falling back."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from yiwang.conf import env


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("yes", True), ("off", False), ("", False)])
def test_booleans(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("YW_TEST", raw)
    assert env.env_bool("YW_TEST", not expected) is expected


@pytest.mark.parametrize(
    ("reader", "raw", "message"),
    [
        (lambda: env.env_bool("YW_TEST", False), "maybe", "is not a boolean"),
        (lambda: env.env_int("YW_TEST", 1), "ten", "is not an integer"),
        (lambda: env.env_int("YW_TEST", 1, minimum=5), "3", "below the minimum"),
        (lambda: env.env_int("YW_TEST", 1, maximum=5), "9", "above the maximum"),
        (lambda: env.env_choice("YW_TEST", "warn", ["warn", "reject"]), "ignore", "is not one of"),
        (lambda: env.env_database("YW_TEST", "x.sqlite3"), "mysql://h/db", "must be a postgres://"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, reader, raw: str, message: str) -> None:
    monkeypatch.setenv("YW_TEST", raw)
    with pytest.raises(ImproperlyConfigured, match=f"YW_TEST.*{message}"):
        reader()


def test_database_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YW_TEST", raising=False)
    assert env.env_database("YW_TEST", "/tmp/x.sqlite3")["ENGINE"] == "django.db.backends.sqlite3"
    monkeypatch.setenv("YW_TEST", "postgres://u@127.0.0.1:5432/yw")
    config = env.env_database("YW_TEST", "/tmp/x.sqlite3")
    assert (config["ENGINE"], config["NAME"], config["PORT"]) == ("django.db.backends.postgresql", "yw", 5432)


def test_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YW_TEST", "a.example, b.example,,")
    assert env.env_list("YW_TEST", []) == ["a.example", "b.example"]


def test_a_bad_setting_stops_the_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "yiwang", "check"],
        env={"YIWANG_USCC_POLICY": "sometimes", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "YIWANG_USCC_POLICY='sometimes' is not one of warn, reject" in result.stderr
