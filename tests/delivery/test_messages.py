"""What a message says: link, clinic name, opt-out; nothing else; four languages."""

from __future__ import annotations

import datetime as dt
import email
import html
import re
from email.policy import default
from string import Formatter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.delivery import compose, message_language
from alliance.delivery.messages import KEYS, texts
from alliance.errors import ConfigError, RecipientRefused

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
LINK = "https://survey.example/s/tok"
OPT_OUT = "https://survey.example/o/u"


def make(kind: str = "link", channel: str = "email", **kw: object) -> object:
    values: dict[str, object] = dict(to="client@example.org" if channel == "email"
                                     else "+33612345678", link_url=LINK,
                                     clinic_name="Riverside Clinic", opt_out_url=OPT_OUT,
                                     now=NOW, mail_from="care@clinic.example")
    values.update(kw)
    return compose(kind, channel, **values)  # type: ignore[arg-type]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def test_every_language_has_every_text_with_the_same_placeholders() -> None:
    shipped = texts()
    assert set(shipped) == {"en", "es", "fr", "de"}
    for lang, words in shipped.items():
        assert set(words) == set(KEYS), lang
        for key in KEYS:
            assert placeholders(words[key]) == placeholders(shipped["en"][key]), (lang, key)


def test_no_text_names_a_questionnaire_or_anything_clinical() -> None:
    for words in texts().values():
        for text in words.values():
            assert not re.search(r"alliance|therap|score|risk|symptom|depress|anx", text, re.I)


@pytest.mark.parametrize(("requested", "served"), [("es", "es"), ("es-419", "es"),
                                                   ("FR-ca", "fr"), ("de-CH", "de"),
                                                   ("it", "en"), ("", "en"), ("klingon!", "en")])
def test_language_falls_back_to_english(requested: str, served: str) -> None:
    assert message_language(requested) == served


@pytest.mark.parametrize("lang", ["en", "es", "fr", "de"])
@pytest.mark.parametrize("kind", ["link", "reminder"])
def test_sms_carries_the_clinic_the_link_and_the_opt_out_in_each_language(
        lang: str, kind: str) -> None:
    m = make(kind, "sms", language=lang)
    assert m.text.startswith("Riverside Clinic")  # type: ignore[attr-defined]
    assert LINK in m.text and OPT_OUT in m.text  # type: ignore[attr-defined]
    assert m.headers == () and m.html is None and m.message_id is None  # type: ignore[attr-defined]


def test_reminder_and_first_message_differ_in_each_language() -> None:
    for lang in ("en", "es", "fr", "de"):
        first, again = make(language=lang), make("reminder", language=lang)
        assert first.subject != again.subject  # type: ignore[attr-defined]
        assert first.text != again.text  # type: ignore[attr-defined]


def test_html_escapes_the_clinic_name() -> None:
    m = make(clinic_name="Smith & <Jones>")
    assert "Smith &amp; &lt;Jones&gt;" in m.html  # type: ignore[attr-defined]
    assert "<Jones>" not in m.html  # type: ignore[attr-defined]
    assert "Smith & <Jones>" in m.text  # type: ignore[attr-defined]


def test_repr_shows_neither_address_nor_body() -> None:
    text = repr(make())
    assert "client@example.org" not in text and LINK not in text
    assert "kind='link'" in text


def test_naive_time_is_utc_and_message_ids_are_unique() -> None:
    a, b = make(now=NOW.replace(tzinfo=None)), make()
    assert dict(a.headers)["Date"] == "Mon, 02 Mar 2026 12:00:00 +0000"  # type: ignore[attr-defined]
    assert a.message_id != b.message_id  # type: ignore[attr-defined]


@pytest.mark.parametrize(("channel", "to"), [("email", "not-an-address"),
                                             ("email", "a@b.example\nBcc: x@y.example"),
                                             ("sms", "0612345678"), ("sms", "+0612345678")])
def test_an_unusable_address_is_refused_without_repeating_it(channel: str, to: str) -> None:
    with pytest.raises(RecipientRefused) as caught:
        make(channel=channel, to=to)
    assert to not in str(caught.value)


@pytest.mark.parametrize("kw", [{"link_url": "javascript:alert(1)"},
                                {"link_url": "https://x.example/s/a b"},
                                {"opt_out_url": "/relative/opt-out"},
                                {"clinic_name": ""},
                                {"clinic_name": "Clinic\r\nBcc: x@y.example"},
                                {"clinic_name": "Clinic\x85Bcc: x@y.example"},
                                {"clinic_name": "Clinic\u2028Bcc: x@y.example"},
                                {"mail_from": ""}])
def test_bad_configuration_is_a_config_error(kw: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        make(**kw)


def test_an_sms_does_not_become_an_email() -> None:
    with pytest.raises(ConfigError):
        make(channel="sms").to_email()  # type: ignore[attr-defined]


# Every character check_clinic_name accepts (it refuses Cc, Cs, Zl and Zp).
clinic_names = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
                       min_size=1, max_size=120).filter(lambda t: t.strip() == t and t)


@settings(max_examples=80, deadline=None)
@given(clinic_names, st.sampled_from(["en", "es", "fr", "de"]), st.sampled_from(["link",
                                                                                "reminder"]))
def test_any_printable_clinic_name_survives_the_round_trip_through_the_wire_format(
        clinic: str, lang: str, kind: str) -> None:
    m = make(kind, clinic_name=clinic, language=lang)
    wire = m.to_email().as_bytes()  # type: ignore[attr-defined]
    back = email.message_from_bytes(wire, policy=default)
    assert back["Subject"] == m.subject  # type: ignore[attr-defined]
    assert back["To"] == "client@example.org" and back["Bcc"] is None
    plain = back.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html_part = back.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert clinic in plain and LINK in plain and OPT_OUT in plain
    assert html.escape(clinic) in html_part


def test_a_long_subject_keeps_the_space_before_a_non_ascii_word() -> None:
    # found by the property above: folding at 78 put the space between two encoded words
    clinic = "00000\xa0\u0800\U00010000\U00010000\U00010000 \u00a1"
    m = make("link", clinic_name=clinic, language="es")
    back = email.message_from_bytes(m.to_email().as_bytes(), policy=default)  # type: ignore[attr-defined]
    assert back["Subject"] == m.subject  # type: ignore[attr-defined]
    assert back["Subject"].endswith(" \u00a1")
