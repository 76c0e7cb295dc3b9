"""The background worker: alert monitoring and transcript analysis, outside any request.

One step (:meth:`Worker.run_once`) re-assesses the cases whose data changed
(:func:`alliance.store.monitoring.assess_due`, writing alert rows) and analyses one queued
transcript (:func:`alliance.store.transcripts.run_one`). The background loop re-assesses a
case at most once per ``reassess_every`` (settings; 10 s by default): a case that changes
again sooner waits, so a busy case's answers share one assessment instead of costing one
each, while a change to a quiet case is assessed at the next step. Claims carry a lease, and on
PostgreSQL use ``FOR UPDATE SKIP LOCKED``, so any number of workers on any hosts
(``alliance worker``) never take the same job; a killed worker's jobs are taken again when
its lease runs out. ``alliance serve`` on SQLite runs one worker thread in its process.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from alliance.clinic import Clinic
from alliance.store import delivery, monitoring, signals, transcripts

log = logging.getLogger("alliance.worker")


class Worker:
    def __init__(self, clinic: Clinic, *, interval: float | None = None,
                 analyser: transcripts.Analyser | None = None,
                 name: str | None = None) -> None:
        self.clinic = clinic
        self.interval = interval if interval is not None else clinic.settings.worker_interval
        self.analyser = analyser or transcripts.analyse_with(clinic.coder)
        self.name = name or clinic.worker_name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- steps -----------------------------------------------------------------------------
    def monitor_once(self, limit: int = 50, *, spaced: bool = False) -> int:
        """Re-assess up to ``limit`` changed cases; returns how many. ``spaced``: leave a
        case assessed less than ``reassess_every`` ago for a later step (the loop does)."""
        c = self.clinic
        spacing = c.settings.reassess_every if spaced else dt.timedelta(0)
        return monitoring.assess_due(c.db, catalog=c.catalog, policy=c.policy, now=c.clock(),
                                     lease=c.settings.job_lease, owner=self.name, limit=limit,
                                     basis=c.basis, expected=c.expected, spacing=spacing)

    def analyse_once(self) -> bool:
        """Analyse one queued transcript; ``False`` when none was waiting (or no key)."""
        c = self.clinic
        if c.box is None:
            return False
        return transcripts.run_one(c.db, c.box, self.analyser, now=c.clock,
                                   lease=c.settings.job_lease, worker=self.name)

    def deliver_once(self, limit: int = 20) -> int:
        """Send due survey links and reminders (claimed cases, with a lease) and the e-mail
        notices of new risk answers and client messages; returns how many were handled."""
        c = self.clinic
        sent = delivery.send_due(c.db, c.box, catalog=c.catalog, delivery=c.delivery,
                                 now=c.clock(), lease=c.settings.job_lease, owner=self.name,
                                 limit=limit)
        d = c.settings.delivery
        notified = signals.notify_due(c.db, sender=c.delivery.senders["email"],
                                      clinic_name=d.clinic_name, mail_from=d.mail_from,
                                      public_url=c.settings.public_url, now=c.clock(),
                                      lease=c.settings.job_lease)
        return sent + notified

    def run_once(self, *, spaced: bool = False) -> bool:
        """One step of each job; ``True`` when anything was done (``spaced``: see
        :meth:`monitor_once`)."""
        assessed = self.monitor_once(spaced=spaced)
        analysed = self.analyse_once()
        if analysed:
            self.monitor_once(spaced=spaced)  # the new transcript summary changed its case
        delivered = self.deliver_once()
        return bool(assessed) or analysed or bool(delivered)

    def drain(self) -> None:
        """Run steps until nothing is left (tests, the demo)."""
        while self.run_once():
            pass

    # -- loop --------------------------------------------------------------------------------
    def run_forever(self, should_stop: Callable[[], bool] | None = None) -> None:
        stop = should_stop or self._stop.is_set
        while not stop():
            try:
                while self.run_once(spaced=True) and not stop():
                    pass
            except Exception:  # keep the worker alive; the rows show the failures
                log.exception("worker step failed")
            self._stop.wait(self.interval)

    def start(self) -> None:
        """Run in a daemon thread (``alliance serve`` on SQLite)."""
        if self.clinic.box is None:
            log.warning("no encryption key configured: transcripts are not analysed")
        self._thread = threading.Thread(target=self.run_forever, name="alliance-worker",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


