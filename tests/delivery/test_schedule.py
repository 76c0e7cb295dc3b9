"""Which sends are due: hand-computed cases at a fixed clock."""

from __future__ import annotations

import datetime as dt

import pytest

from alliance.delivery import (
    CaseDelivery,
    LinkState,
    MeasurePlan,
    Recipient,
    RecordedSession,
    SchedulePolicy,
    SendState,
    due_sends,
    held_links,
)
from alliance.errors import ConfigError

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
CLIENT = Recipient(member_id=None, channels=("email", "sms"), language="fr")
A12 = MeasurePlan("alliance-12")
PULSE_EVERY_3 = MeasurePlan("pulse-3", every=3)


def case(*, number: int = 1, held_on: dt.date = TODAY, attended: bool = True,
         measures: tuple[MeasurePlan, ...] = (A12,),
         recipients: tuple[Recipient, ...] = (CLIENT,),
         links: tuple[LinkState, ...] = (), sends: tuple[SendState, ...] = ()) -> CaseDelivery:
    return CaseDelivery(measures=measures,
                        sessions=(RecordedSession(10 + number, number, held_on, attended),),
                        recipients=recipients, links=links, sends=sends)


def link(**kw: object) -> LinkState:
    values: dict[str, object] = dict(link_id=5, session_id=11, member_id=None, rater="client",
                                     instrument_id="alliance-12",
                                     expires_at=NOW + dt.timedelta(days=4))
    values.update(kw)
    return LinkState(**values)  # type: ignore[arg-type]


def sent_at(hours_ago: float, kind: str = "link", status: str = "sent",
            channel: str = "email", **kw: object) -> SendState:
    return SendState(5, kind, channel, status,  # type: ignore[arg-type]
                     NOW - dt.timedelta(hours=hours_ago), **kw)  # type: ignore[arg-type]


def kinds(c: CaseDelivery, now: dt.datetime = NOW, **kw: object) -> list[tuple[object, ...]]:
    return [(d.kind, d.instrument_id, d.channel, d.link_id, d.attempt)
            for d in due_sends(c, now=now, **kw)]  # type: ignore[arg-type]


def test_session_four_is_due_for_every_session_and_every_third_session_measures() -> None:
    due = due_sends(case(number=4, measures=(A12, PULSE_EVERY_3)), now=NOW)
    assert [(d.kind, d.session_id, d.instrument_id, d.needs_link, d.language) for d in due] == [
        ("link", 14, "alliance-12", True, "fr"), ("link", 14, "pulse-3", True, "fr")]


def test_session_five_skips_the_every_third_session_measure() -> None:
    assert kinds(case(number=5, measures=(A12, PULSE_EVERY_3))) == [
        ("link", "alliance-12", "email", None, 1)]


def test_recipients_first_channel_is_used_unless_it_is_not_configured() -> None:
    assert kinds(case(), channels=("sms",)) == [("link", "alliance-12", "sms", None, 1)]
    assert kinds(case(), channels=()) == []


def test_no_link_for_a_session_held_longer_ago_than_the_window() -> None:
    assert kinds(case(held_on=TODAY - dt.timedelta(days=4))) == []
    assert kinds(case(held_on=TODAY - dt.timedelta(days=3))) != []
    assert kinds(case(held_on=TODAY - dt.timedelta(days=4)),
                 policy=SchedulePolicy(send_window=dt.timedelta(days=7))) != []


def test_no_link_for_a_session_dated_in_the_future() -> None:
    assert kinds(case(held_on=TODAY + dt.timedelta(days=1))) == []


def test_only_the_latest_session_counts_and_a_no_show_sends_nothing() -> None:
    c = CaseDelivery(measures=(A12,), recipients=(CLIENT,), sessions=(
        RecordedSession(11, 1, TODAY - dt.timedelta(days=1)),
        RecordedSession(12, 2, TODAY, attended=False)))
    assert due_sends(c, now=NOW) == []


def test_nothing_to_an_opted_out_client_or_one_without_contact_details() -> None:
    assert kinds(case(recipients=(Recipient(None, channels=("email",), opted_out=True),))) == []
    assert kinds(case(recipients=(Recipient(None, channels=()),))) == []


def test_each_member_of_a_couple_gets_their_own_link_and_therapist_measures_none() -> None:
    couple = (Recipient(1, channels=("email",)), Recipient(2, channels=("sms",)))
    due = due_sends(case(recipients=couple,
                         measures=(A12, MeasurePlan("session-check-4", rater="therapist"))),
                    now=NOW)
    assert [(d.member_id, d.channel, d.instrument_id) for d in due] == [
        (1, "email", "alliance-12"), (2, "sms", "alliance-12")]


def test_an_existing_link_for_the_session_means_no_new_one() -> None:
    # A link the clinician made by hand (no send rows): the worker neither creates nor sends.
    assert kinds(case(links=(link(),))) == []


def test_duplicate_measures_give_one_link() -> None:
    assert len(due_sends(case(measures=(A12, A12)), now=NOW)) == 1


def test_one_reminder_falls_due_exactly_at_the_delay_on_the_first_channel() -> None:
    c = case(links=(link(),), sends=(sent_at(48, channel="sms"),))
    assert kinds(c) == [("reminder", "alliance-12", "sms", 5, 1)]
    assert kinds(c, now=NOW - dt.timedelta(seconds=1)) == []
    assert kinds(c, policy=SchedulePolicy(reminder_delay=dt.timedelta(hours=72))) == []


@pytest.mark.parametrize("state", [{"answered": True}, {"revoked": True},
                                   {"expires_at": NOW}])
def test_no_reminder_for_an_answered_revoked_or_expired_link(state: dict[str, object]) -> None:
    assert kinds(case(links=(link(**state),), sends=(sent_at(50),))) == []


def test_never_a_second_reminder() -> None:
    c = case(links=(link(),), sends=(sent_at(100), sent_at(50, "reminder")))
    assert kinds(c) == []
    assert kinds(c, now=NOW + dt.timedelta(days=2)) == []


def test_a_failed_reminder_is_retried_after_the_pause_up_to_the_attempt_limit() -> None:
    failed = (sent_at(100), sent_at(0.25, "reminder", "failed"))
    assert kinds(case(links=(link(),), sends=failed)) == []
    assert kinds(case(links=(link(),), sends=failed), now=NOW + dt.timedelta(minutes=15)) == [
        ("reminder", "alliance-12", "email", 5, 2)]
    three = (sent_at(100), *(sent_at(h, "reminder", "failed") for h in (3, 2, 1)))
    assert kinds(case(links=(link(),), sends=three)) == []


def test_a_failed_first_send_is_retried_and_no_reminder_comes_before_it_succeeds() -> None:
    c = case(links=(link(),), sends=(sent_at(60, status="failed"),))
    assert kinds(c) == [("link", "alliance-12", "email", 5, 2)]


def test_a_bounce_stops_every_further_send_for_the_link() -> None:
    assert kinds(case(links=(link(),), sends=(sent_at(60, status="bounced"),))) == []
    assert kinds(case(links=(link(),), sends=(sent_at(60),
                                              sent_at(1, "reminder", "bounced")))) == []
    assert kinds(case(links=(link(),),
                      sends=(sent_at(60, status="failed", permanent=True),))) == []


def test_opting_out_after_the_link_was_sent_stops_the_reminder() -> None:
    out = Recipient(None, channels=("email",), opted_out=True)
    assert kinds(case(links=(link(),), sends=(sent_at(60),), recipients=(out,))) == []


def test_reminder_falls_back_to_another_channel_when_the_first_is_gone() -> None:
    c = case(links=(link(),), sends=(sent_at(60, channel="sms"),))
    assert kinds(c, channels=("email",)) == [("reminder", "alliance-12", "email", 5, 1)]


def test_naive_times_are_read_as_utc() -> None:
    c = case(links=(link(expires_at=(NOW + dt.timedelta(days=1)).replace(tzinfo=None)),),
             sends=(SendState(5, "link", "email", "sent",
                              (NOW - dt.timedelta(hours=49)).replace(tzinfo=None)),))
    assert kinds(c, now=NOW.replace(tzinfo=None)) == [("reminder", "alliance-12", "email", 5, 1)]


@pytest.mark.parametrize("bad", [dict(reminder_delay=dt.timedelta(0)),
                                 dict(send_window=dt.timedelta(hours=-1)),
                                 dict(max_attempts=0),
                                 dict(retry_after=dt.timedelta(minutes=-5))])
def test_a_nonsensical_policy_is_a_config_error(bad: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        SchedulePolicy(**bad)  # type: ignore[arg-type]


def test_policy_comes_from_the_settings() -> None:
    from alliance.delivery import parse_delivery_settings

    settings = parse_delivery_settings({"ALLIANCE_REMINDER_DELAY": "3d",
                                        "ALLIANCE_SEND_WINDOW": "12h"})
    policy = SchedulePolicy.from_settings(settings)
    assert (policy.reminder_delay, policy.send_window) == (dt.timedelta(days=3),
                                                           dt.timedelta(hours=12))


def test_nothing_is_sent_in_quiet_hours_and_it_all_goes_out_after() -> None:
    policy = SchedulePolicy(quiet_hours=(dt.time(21), dt.time(8)), timezone="America/Toronto")
    # 12:00 UTC is 07:00 in Toronto (UTC-5 on 2 March): still quiet.
    assert kinds(case(), policy=policy) == []
    assert kinds(case(), now=NOW + dt.timedelta(hours=1), policy=policy) == [
        ("link", "alliance-12", "email", None, 1)]
    reminder = case(links=(link(),), sends=(sent_at(60),))
    assert kinds(reminder, policy=policy) == []
    assert kinds(reminder, now=NOW + dt.timedelta(hours=1), policy=policy) != []


def test_the_send_window_counts_days_on_the_clinics_calendar() -> None:
    # 02:00 UTC on 3 March is still 2 March in Toronto: a session held on 27 February is
    # three days old there (due), four days old in UTC (not due).
    late = dt.datetime(2026, 3, 3, 2, 0, tzinfo=dt.UTC)
    held = dt.date(2026, 2, 27)
    assert kinds(case(held_on=held), now=late) == []
    assert kinds(case(held_on=held), now=late,
                 policy=SchedulePolicy(timezone="America/Toronto")) != []


def test_an_unknown_time_zone_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not a known time zone"):
        SchedulePolicy(timezone="Mars/Olympus_Mons")


def test_no_link_for_a_structure_only_instrument() -> None:
    paper_only = MeasurePlan("phq-9", has_form=False)
    assert kinds(case(measures=(paper_only, A12))) == [("link", "alliance-12", "email", None, 1)]


def test_nothing_for_a_case_without_consent_to_measures() -> None:
    import dataclasses

    due = case(number=2, links=(link(),), sends=(sent_at(60),))
    assert kinds(due) != []
    assert kinds(dataclasses.replace(due, consent=False)) == []


def held(c: CaseDelivery, now: dt.datetime = NOW, **kw: object) -> list[tuple[object, ...]]:
    return [(h.member_id, h.instrument_id, h.reason)
            for h in held_links(c, now=now, **kw)]  # type: ignore[arg-type]


@pytest.mark.parametrize(("snapshot", "kw", "reason"), [
    (case(held_on=TODAY - dt.timedelta(days=5)), {}, "too_old"),
    (case(held_on=TODAY + dt.timedelta(days=1)), {}, "future"),
    (case(attended=False), {}, "not_held"),
    (case(measures=(MeasurePlan("alliance-12", has_form=False),)), {}, "paper_only"),
    (case(recipients=(Recipient(None, channels=("email",), opted_out=True),)), {}, "opted_out"),
    (case(), {"channels": ()}, "not_configured"),
    (case(recipients=(Recipient(None, channels=("sms",)),)), {"channels": ("email",)},
     "no_contact"),
    (case(), {"policy": SchedulePolicy(quiet_hours=(dt.time(11), dt.time(13)))}, "quiet_hours"),
])
def test_a_held_link_says_why(snapshot: CaseDelivery, kw: dict[str, object],
                              reason: str) -> None:
    assert held(snapshot, **kw) == [(None, "alliance-12", reason)]
    assert [d for d in due_sends(snapshot, now=NOW, **kw) if d.needs_link] == []  # type: ignore[arg-type]


def test_withdrawn_consent_is_the_reason_before_any_other() -> None:
    import dataclasses

    c = dataclasses.replace(case(attended=False), consent=False)
    assert held(c) == [(None, "alliance-12", "no_consent")]
    assert held_links(c, now=NOW)[0].explanation == "consent to measures is withdrawn"


def test_nothing_is_held_when_the_link_goes_out_or_already_exists() -> None:
    assert held(case()) == []
    assert held(case(recipients=(Recipient(None, opted_out=True),), links=(link(),))) == []
    assert held(case(number=2, measures=(PULSE_EVERY_3,))) == []  # not due at session 2
