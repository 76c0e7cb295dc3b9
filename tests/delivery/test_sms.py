"""SMS providers: the file and console providers, plug-ins by name, errors kept private."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest

from alliance.delivery import (
    ConsoleSmsProvider,
    FileSmsProvider,
    SmsSender,
    compose,
    deliver,
    register_sms_provider,
    sms_provider_from_url,
)
from alliance.delivery.sms import _REGISTRY, sms_provider_names
from alliance.errors import ConfigError, DeliveryError, DeliveryUnreachable, RecipientRefused

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
NUMBER = "+34612345678"


def sms(kind: str = "link") -> object:
    return compose(kind, "sms", to=NUMBER, link_url="https://survey.example/s/tok",  # type: ignore[arg-type]
                   clinic_name="Clínica Ribera", opt_out_url="https://survey.example/o/u",
                   now=NOW, language="es")


def test_file_provider_appends_one_json_line_per_message(tmp_path: Path) -> None:
    path = tmp_path / "sms.jsonl"
    sender = SmsSender(sms_provider_from_url(f"file://{path}"))
    first = sender.send(sms(), now=NOW)  # type: ignore[arg-type]
    sender.send(sms("reminder"), now=NOW)  # type: ignore[arg-type]
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["to"] for line in lines] == [NUMBER, NUMBER]
    assert lines[0]["id"] == first.reference and first.status == "sent"
    assert lines[0]["text"].startswith("Clínica Ribera: unas preguntas breves")
    assert "recordatorio" in lines[1]["text"]


def test_file_provider_in_a_missing_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        sms_provider_from_url(f"file://{tmp_path}/nowhere/sms.jsonl")
    with pytest.raises(ConfigError, match="file:///absolute/path"):
        sms_provider_from_url("file://host/sms.jsonl")


def test_unwritable_file_is_a_retryable_failure(tmp_path: Path) -> None:
    receipt = deliver(SmsSender(FileSmsProvider(tmp_path)), sms(), now=NOW)  # type: ignore[arg-type]
    assert (receipt.status, receipt.retryable) == ("failed", True)
    assert NUMBER not in receipt.reason


def test_console_provider_masks_the_number() -> None:
    out = io.StringIO()
    SmsSender(ConsoleSmsProvider(out)).send(sms(), now=NOW)  # type: ignore[arg-type]
    line = out.getvalue()
    assert NUMBER not in line and "+3*******678" in line and "Clínica Ribera" in line


class Gateway:
    """A stand-in for a real gateway plug-in."""

    name = "acme"

    def __init__(self, url: str, fail: Exception | None = None) -> None:
        self.url, self.fail, self.sent = url, fail, []  # type: ignore[var-annotated]

    def send_sms(self, to: str, text: str) -> str:
        if self.fail:
            raise self.fail
        self.sent.append((to, text))
        return "acme-1"


@pytest.fixture
def acme() -> object:
    register_sms_provider("acme", Gateway)
    yield
    del _REGISTRY["acme"]


def test_a_registered_provider_plugs_in_by_its_scheme(acme: object) -> None:
    provider = sms_provider_from_url("acme://key@api.acme.example")
    assert isinstance(provider, Gateway) and provider.url == "acme://key@api.acme.example"
    assert "acme" in sms_provider_names()
    assert SmsSender(provider).send(sms(), now=NOW).reference == "acme-1"  # type: ignore[arg-type]


def test_a_plugins_own_error_is_kept_by_class_not_by_text() -> None:
    gateway = Gateway("acme://", fail=RuntimeError(f"bad number {NUMBER}"))
    with pytest.raises(DeliveryError) as caught:
        SmsSender(gateway).send(sms(), now=NOW)  # type: ignore[arg-type]
    assert "RuntimeError" in str(caught.value) and NUMBER not in str(caught.value)


def test_a_plugin_refusing_the_number_is_a_bounce() -> None:
    gateway = Gateway("acme://", fail=RecipientRefused("the gateway refused the number"))
    assert deliver(SmsSender(gateway), sms(), now=NOW).status == "bounced"  # type: ignore[arg-type]
    gateway = Gateway("acme://", fail=DeliveryUnreachable("the gateway timed out"))
    assert deliver(SmsSender(gateway), sms(), now=NOW).retryable  # type: ignore[arg-type]


def test_unknown_provider_and_bad_factories_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="no SMS provider is called 'nope'"):
        sms_provider_from_url("nope://x")
    with pytest.raises(ConfigError, match="lower-case name"):
        register_sms_provider("Bad Name", Gateway)
    register_sms_provider("broken", lambda url: object())  # type: ignore[arg-type,return-value]
    try:
        with pytest.raises(ConfigError, match="did not return an SMS provider"):
            sms_provider_from_url("broken://")
    finally:
        del _REGISTRY["broken"]


def test_an_sms_sender_will_not_send_an_email() -> None:
    mail = compose("link", "email", to="a@b.example", link_url="https://s.example/s/t",
                   clinic_name="C", opt_out_url="https://s.example/o", now=NOW,
                   mail_from="c@c.example")
    with pytest.raises(DeliveryError):
        SmsSender(ConsoleSmsProvider(io.StringIO())).send(mail, now=NOW)
    assert deliver(SmsSender(ConsoleSmsProvider(io.StringIO())), mail, now=NOW).status == "failed"


def test_an_installed_entry_point_plugs_in_without_registration(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import EntryPoint

    import alliance.delivery.sms as sms_module

    installed = [EntryPoint("relay", "alliance.delivery.sms:_console_provider",
                            sms_module.ENTRY_POINT_GROUP),
                 EntryPoint("gone", "no_such_package.gateway:Provider",
                            sms_module.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(sms_module, "entry_points",
                        lambda group: [ep for ep in installed if ep.group == group])
    assert {"relay", "gone"} <= set(sms_provider_names())
    assert isinstance(sms_provider_from_url("relay://x"), ConsoleSmsProvider)
    with pytest.raises(ConfigError, match="'gone' cannot be loaded"):
        sms_provider_from_url("gone://x")
