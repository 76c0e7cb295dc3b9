"""Which sends are due now: pure functions over a snapshot of one case.

The worker reads a case into a :class:`CaseDelivery` (measures, recorded sessions,
recipients, links, send rows), calls :func:`due_sends` with the clock's ``now``, carries
each :class:`DueSend` out and writes one send row per attempt. The rules:

* **A link after a recorded session.** Only the case's latest session counts, only when it
  was attended and held within ``send_window`` (a bulk import of last year's sessions sends
  nothing), and only for measures due at that session: a measure given every ``k`` sessions
  is due at sessions 1, 1+k, 1+2k… (the rule the case page shows). One link per session,
  rater, member and instrument: once any link exists for that key (the worker's or one a
  clinician made by hand) no new one is due.
* **One reminder** per link, ``reminder_delay`` after the link was first sent, while the
  link is unanswered, unrevoked and unexpired. Never a second reminder once one was sent.
* **Retries** only after a temporary failure (``failed``, not permanent), at most
  ``max_attempts`` per message and not sooner than ``retry_after`` after the last try.
  A bounce stops every further send for that link.
* **Nothing** for a case whose consent to measures is withdrawn, nothing to a recipient who
  opted out or has no contact details for a configured channel, and nothing at all during
  the clinic's quiet hours (what falls due then goes out after).

Idempotent: the answer depends only on the snapshot, and every due send, once carried out,
leaves a row (a link, a send) that removes it from the next answer. :func:`held_links`
says, for the case page, why a link the latest session calls for is not going out.

>>> import datetime as dt
>>> now = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
>>> case = CaseDelivery(
...     measures=(MeasurePlan("alliance-12", every=1),),
...     sessions=(RecordedSession(session_id=7, number=1, held_on=dt.date(2026, 3, 2)),),
...     recipients=(Recipient(member_id=3, channels=("email",)),))
>>> [(d.kind, d.session_id, d.member_id, d.channel) for d in due_sends(case, now=now)]
[('link', 7, 3, 'email')]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from alliance.delivery.messages import CHANNELS, Channel, Kind
from alliance.delivery.senders import Status
from alliance.delivery.settings import DeliverySettings, check_timezone
from alliance.errors import ConfigError


@dataclass(frozen=True)
class MeasurePlan:
    """A measure of the case: which instrument, by which rater, every how many sessions."""

    instrument_id: str
    rater: str = "client"
    every: int = 1
    # False for a structure-only instrument (no wording installed): it cannot be shown as
    # a form, so no link is due; the clinician enters it from paper.
    has_form: bool = True

    def due_at(self, number: int) -> bool:
        """Whether the measure is given at session ``number`` (1, 1+k, 1+2k…).

        >>> [n for n in range(1, 10) if MeasurePlan("pulse-3", every=3).due_at(n)]
        [1, 4, 7]
        """
        return number >= 1 and (number - 1) % self.every == 0


@dataclass(frozen=True)
class RecordedSession:
    session_id: int
    number: int
    held_on: dt.date
    attended: bool = True


@dataclass(frozen=True)
class Recipient:
    """Someone who rates the case's measures, as delivery sees them: no address, only
    which channels have contact details on file (preferred first), opt-out and language."""

    member_id: int | None
    rater: str = "client"
    channels: tuple[Channel, ...] = ()
    opted_out: bool = False
    language: str | None = None


@dataclass(frozen=True)
class LinkState:
    """An existing survey link (whoever made it)."""

    link_id: int
    session_id: int
    member_id: int | None
    rater: str
    instrument_id: str
    expires_at: dt.datetime
    answered: bool = False
    revoked: bool = False


@dataclass(frozen=True)
class SendState:
    """One send row: an attempt to send a link (``kind="link"``) or its reminder."""

    link_id: int
    kind: Kind
    channel: Channel
    status: Status
    at: dt.datetime
    permanent: bool = False


@dataclass(frozen=True)
class CaseDelivery:
    """The snapshot of one case that :func:`due_sends` reads."""

    measures: tuple[MeasurePlan, ...] = ()
    sessions: tuple[RecordedSession, ...] = ()
    recipients: tuple[Recipient, ...] = ()
    links: tuple[LinkState, ...] = ()
    sends: tuple[SendState, ...] = ()
    # The case's consent to measures (withdrawn: nothing is sent, not even a reminder).
    consent: bool = True


@dataclass(frozen=True)
class SchedulePolicy:
    """The timing rules; the composition root builds it from :class:`DeliverySettings`."""

    reminder_delay: dt.timedelta = dt.timedelta(hours=48)
    send_window: dt.timedelta = dt.timedelta(days=3)
    max_attempts: int = 3
    retry_after: dt.timedelta = dt.timedelta(minutes=30)
    quiet_hours: tuple[dt.time, dt.time] | None = None
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if self.reminder_delay <= dt.timedelta(0) or self.send_window <= dt.timedelta(0):
            raise ConfigError("the reminder delay and the send window must be positive")
        if not 1 <= self.max_attempts <= 10:
            raise ConfigError("max_attempts must be between 1 and 10")
        if self.retry_after < dt.timedelta(0):
            raise ConfigError("retry_after must not be negative")
        if self.quiet_hours is not None and self.quiet_hours[0] == self.quiet_hours[1]:
            raise ConfigError("quiet hours must start and end at different times")
        check_timezone(self.timezone)

    @classmethod
    def from_settings(cls, settings: DeliverySettings) -> SchedulePolicy:
        return cls(reminder_delay=settings.reminder_delay, send_window=settings.send_window,
                   quiet_hours=settings.quiet_hours, timezone=settings.timezone)

    def local(self, now: dt.datetime) -> dt.datetime:
        """``now`` on the clinic's clock."""
        return _aware(now).astimezone(ZoneInfo(self.timezone))

    def is_quiet(self, now: dt.datetime) -> bool:
        """Whether ``now`` falls in the quiet hours (clinic time), when nothing is sent.

        >>> import datetime as dt
        >>> p = SchedulePolicy(quiet_hours=(dt.time(21), dt.time(8)), timezone="Europe/Madrid")
        >>> [p.is_quiet(dt.datetime(2026, 3, 2, h, tzinfo=dt.UTC)) for h in (6, 7, 19, 20)]
        [True, False, False, True]
        """
        if self.quiet_hours is None:
            return False
        start, end = self.quiet_hours
        t = self.local(now).time()
        return start <= t < end if start < end else (t >= start or t < end)


@dataclass(frozen=True)
class DueSend:
    """One message to send now.

    ``link_id is None`` means: first create the link for (``session_id``, ``member_id``,
    ``rater``, ``instrument_id``), then send it. ``attempt`` counts tries of this message.
    """

    kind: Kind
    channel: Channel
    session_id: int
    member_id: int | None
    rater: str
    instrument_id: str
    language: str | None
    link_id: int | None = None
    attempt: int = 1

    @property
    def needs_link(self) -> bool:
        return self.link_id is None


def _channel(recipient: Recipient, available: Iterable[Channel],
             preferred: Channel | None = None) -> Channel | None:
    usable = [c for c in recipient.channels if c in set(available)]
    if preferred in usable:
        return preferred
    return usable[0] if usable else None


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


# Why a link due at the latest session is not going out, in the clinician's words.
HOLD_REASONS: dict[str, str] = {
    "no_consent": "consent to measures is withdrawn",
    "not_held": "the session was not held (cancelled or no-show)",
    "too_old": "the session is older than the send window; send the link by hand",
    "future": "the session is dated in the future",
    "paper_only": "the instrument has no wording installed; enter it from paper",
    "opted_out": "the client opted out of messages",
    "not_configured": "no e-mail or SMS is configured for this clinic",
    "no_contact": "no contact details on file for a configured channel",
    "quiet_hours": "quiet hours; it goes out when they end",
}


@dataclass(frozen=True)
class HeldLink:
    """A link due at the latest session that is not being sent, and why (for the case page)."""

    session_id: int
    member_id: int | None
    rater: str
    instrument_id: str
    reason: str

    @property
    def explanation(self) -> str:
        return HOLD_REASONS[self.reason]


_Key = tuple[int, int | None, str, str]


def _candidates(case: CaseDelivery, now: dt.datetime, policy: SchedulePolicy,
                channels: tuple[Channel, ...]
                ) -> list[tuple[_Key, Recipient, Channel | None, str | None]]:
    """Each (session, member, rater, instrument) the latest session calls for and has no link
    yet, with the channel to use and the reason it is held (``None``: due now)."""
    if not case.sessions:
        return []
    latest = max(case.sessions, key=lambda s: s.number)
    age = policy.local(now).date() - latest.held_on
    case_reason = ("no_consent" if not case.consent else "not_held" if not latest.attended
                   else "future" if age < dt.timedelta(0)
                   else "too_old" if age > policy.send_window else None)
    existing = {(lk.session_id, lk.member_id, lk.rater, lk.instrument_id) for lk in case.links}
    found: dict[_Key, tuple[_Key, Recipient, Channel | None, str | None]] = {}
    for measure in case.measures:
        if not measure.due_at(latest.number):
            continue
        for who in case.recipients:
            key = (latest.session_id, who.member_id, measure.rater, measure.instrument_id)
            if who.rater != measure.rater or key in existing:
                continue
            channel = _channel(who, channels)
            reason = (case_reason or ("paper_only" if not measure.has_form else None)
                      or ("opted_out" if who.opted_out else None)
                      or ("not_configured" if not channels else None)
                      or ("no_contact" if channel is None else None)
                      or ("quiet_hours" if policy.is_quiet(now) else None))
            found[key] = (key, who, channel, reason)
    return [found[k] for k in sorted(found, key=lambda k: (k[0], k[1] or 0, k[2], k[3]))]


def _new_links(case: CaseDelivery, now: dt.datetime, policy: SchedulePolicy,
               channels: tuple[Channel, ...]) -> list[DueSend]:
    return [DueSend("link", channel, *key, language=who.language)
            for key, who, channel, reason in _candidates(case, now, policy, channels)
            if reason is None and channel is not None]


def held_links(case: CaseDelivery, *, now: dt.datetime, policy: SchedulePolicy | None = None,
               channels: Iterable[Channel] = CHANNELS) -> list[HeldLink]:
    """The links the latest session calls for that :func:`due_sends` is not sending, and why.

    For the case page, beside the send rows, so a clinician sees "no contact details on
    file" instead of silence. Links that exist already are not listed.

    >>> import datetime as dt
    >>> case = CaseDelivery(measures=(MeasurePlan("alliance-12"),),
    ...     sessions=(RecordedSession(7, 1, dt.date(2026, 3, 2)),),
    ...     recipients=(Recipient(member_id=3, channels=("sms",)),))
    >>> [h.explanation for h in held_links(case, now=dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC),
    ...                                    channels=("email",))]
    ['no contact details on file for a configured channel']
    """
    policy = policy or SchedulePolicy()
    configured = tuple(c for c in CHANNELS if c in set(channels))
    return [HeldLink(*key, reason=reason)
            for key, _, _, reason in _candidates(case, _aware(now), policy, configured)
            if reason is not None]


def _follow_ups(case: CaseDelivery, now: dt.datetime, policy: SchedulePolicy,
                recipients: dict[int | None, Recipient],
                channels: tuple[Channel, ...]) -> list[DueSend]:
    sends_by_link: dict[int, list[SendState]] = {}
    for send in case.sends:
        sends_by_link.setdefault(send.link_id, []).append(send)
    due: list[DueSend] = []
    for link in sorted(case.links, key=lambda lk: lk.link_id):
        rows = sorted(sends_by_link.get(link.link_id, []), key=lambda s: _aware(s.at))
        who = recipients.get(link.member_id)
        if (not rows or who is None or who.opted_out or link.answered or link.revoked
                or now >= _aware(link.expires_at)):
            continue
        if any(r.status == "bounced" or r.permanent for r in rows):
            continue
        firsts = [r for r in rows if r.kind == "link"]
        reminders = [r for r in rows if r.kind == "reminder"]
        sent_first = [r for r in firsts if r.status == "sent"]
        preferred: Channel | None
        if sent_first:
            if any(r.status == "sent" for r in reminders):
                continue
            if now < _aware(sent_first[0].at) + policy.reminder_delay:
                continue
            kind: Kind = "reminder"
            tries, preferred = reminders, sent_first[0].channel
        else:
            kind, tries, preferred = "link", firsts, firsts[-1].channel if firsts else None
        if tries and (len(tries) >= policy.max_attempts
                      or now < _aware(tries[-1].at) + policy.retry_after):
            continue
        channel = _channel(who, channels, preferred)
        if channel is None:
            continue
        due.append(DueSend(kind, channel, link.session_id, link.member_id, link.rater,
                           link.instrument_id, who.language, link.link_id, len(tries) + 1))
    return due


def due_sends(case: CaseDelivery, *, now: dt.datetime, policy: SchedulePolicy | None = None,
              channels: Iterable[Channel] = CHANNELS) -> list[DueSend]:
    """The sends due now for one case: new links first, then retries and reminders.

    ``channels`` are the configured ones (``DeliverySettings.channels``): a recipient
    reachable only by an unconfigured channel gets nothing, and no row is due for them.
    """
    policy = policy or SchedulePolicy()
    now = _aware(now)
    if policy.is_quiet(now) or not case.consent:
        return []
    configured = tuple(c for c in CHANNELS if c in set(channels))
    recipients = {r.member_id: r for r in case.recipients}
    return (_new_links(case, now, policy, configured)
            + _follow_ups(case, now, policy, recipients, configured))
