"""Properties of the schedule over random case histories, run as a simulated worker."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.delivery import (
    CaseDelivery,
    DueSend,
    LinkState,
    MeasurePlan,
    Recipient,
    RecordedSession,
    SchedulePolicy,
    SendState,
    due_sends,
    held_links,
)

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

recipients = st.lists(
    st.builds(Recipient, member_id=st.integers(1, 3),
              channels=st.lists(st.sampled_from(["email", "sms"]), unique=True,
                                max_size=2).map(tuple),
              opted_out=st.booleans()),
    min_size=1, max_size=3, unique_by=lambda r: r.member_id)
measures = st.lists(
    st.builds(MeasurePlan, instrument_id=st.sampled_from(["alliance-12", "pulse-3", "phq-9"]),
              rater=st.sampled_from(["client", "client", "therapist"]),
              every=st.integers(1, 3)),
    min_size=1, max_size=3)
steps = st.lists(st.tuples(
    st.floats(0, 60),                                         # hours to wait
    st.sampled_from(["session", "session", "tick", "tick", "answer", "opt-out", "opt-in"]),
    st.integers(0, 10)), min_size=1, max_size=25)
outcomes = st.lists(st.sampled_from(["sent", "sent", "sent", "failed", "bounced"]),
                    min_size=1, max_size=20)
configured = st.sampled_from([("email", "sms"), ("email",), ("sms",)])
policies = st.sampled_from([
    SchedulePolicy(),
    SchedulePolicy(quiet_hours=(dt.time(21), dt.time(8)), timezone="Europe/Madrid"),
    SchedulePolicy(reminder_delay=dt.timedelta(hours=6), max_attempts=1,
                   retry_after=dt.timedelta(0))])


def carry_out(due: list[DueSend], links: list[LinkState], sends: list[SendState],
              now: dt.datetime, statuses: list[str], counter: list[int]) -> None:
    for d in due:
        link_id = d.link_id
        if link_id is None:
            link_id = len(links) + 1
            links.append(LinkState(link_id, d.session_id, d.member_id, d.rater,
                                   d.instrument_id, expires_at=now + dt.timedelta(days=7)))
        status = statuses[counter[0] % len(statuses)]
        counter[0] += 1
        sends.append(SendState(link_id, d.kind, d.channel, status, now))  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(recipients, measures, steps, outcomes, configured, policies)
def test_simulated_worker_never_breaks_the_delivery_rules(
        people: list[Recipient], plans: list[MeasurePlan],
        history: list[tuple[float, str, int]], statuses: list[str],
        channels: tuple[str, ...], policy: SchedulePolicy) -> None:
    now, sessions = START, []
    links: list[LinkState] = []
    sends: list[SendState] = []
    counter = [0]
    for hours, event, pick in history:
        now += dt.timedelta(hours=hours)
        if event == "session":
            sessions.append(RecordedSession(len(sessions) + 100, len(sessions) + 1, now.date()))
        elif event == "answer" and links:
            k = pick % len(links)
            links[k] = dataclasses.replace(links[k], answered=True)
        elif event in ("opt-out", "opt-in"):
            k = pick % len(people)
            people[k] = dataclasses.replace(people[k], opted_out=event == "opt-out")
        snapshot = CaseDelivery(tuple(plans), tuple(sessions), tuple(people), tuple(links),
                                tuple(sends))
        due = due_sends(snapshot, now=now, policy=policy, channels=channels)  # type: ignore[arg-type]
        assert due == due_sends(snapshot, now=now, policy=policy, channels=channels)  # type: ignore[arg-type]
        assert not (due and policy.is_quiet(now)), "a send in quiet hours"
        holds = held_links(snapshot, now=now, policy=policy, channels=channels)  # type: ignore[arg-type]
        new = {(d.session_id, d.member_id, d.rater, d.instrument_id) for d in due if d.needs_link}
        assert not new & {(h.session_id, h.member_id, h.rater, h.instrument_id) for h in holds}
        assert all(h.explanation for h in holds)
        by_member = {p.member_id: p for p in people}
        for d in due:
            who = by_member[d.member_id]
            assert not who.opted_out, "a send to an opted-out client"
            assert d.channel in who.channels and d.channel in channels
            assert who.rater == d.rater
        keys = [(d.link_id, d.kind) if d.link_id else (d.session_id, d.member_id,
                                                       d.instrument_id) for d in due]
        assert len(keys) == len(set(keys)), "one answer asks for the same send twice"
        carry_out(due, links, sends, now, statuses, counter)
        again = CaseDelivery(tuple(plans), tuple(sessions), tuple(people), tuple(links),
                             tuple(sends))
        assert due_sends(again, now=now, policy=policy, channels=channels) == [], \
            "calling again after carrying out the sends asks for more"  # type: ignore[arg-type]

    link_keys = [(lk.session_id, lk.member_id, lk.rater, lk.instrument_id) for lk in links]
    assert len(link_keys) == len(set(link_keys)), "two links for one session, rater, measure"
    for lk in links:
        rows = [s for s in sends if s.link_id == lk.link_id]
        reminders = [s for s in rows if s.kind == "reminder"]
        assert sum(s.status == "sent" for s in reminders) <= 1, "two reminders for one link"
        assert len(reminders) <= policy.max_attempts
        assert sum(s.kind == "link" for s in rows) <= policy.max_attempts
        bounce = next((s.at for s in rows if s.status == "bounced"), None)
        assert bounce is None or all(s.at <= bounce for s in rows), "a send after a bounce"
        first = next((s.at for s in rows if s.kind == "link" and s.status == "sent"), None)
        for r in reminders:
            assert first is not None and r.at >= first + policy.reminder_delay
