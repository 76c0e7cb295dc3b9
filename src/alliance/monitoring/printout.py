"""The printable case report: one or two A4 pages for the clinical record or a supervision
meeting. Trajectories (alliance above, outcome below, on one session axis), the alert with its
strongest evidence and steps, the outcome status and attendance.

:func:`case_report_html` writes the page as self-standing HTML (no scripts of its own; the
chart is a Plotly figure in ``<script type="application/json" id="figure">``, drawn by the
renderer, :mod:`alliance.interop.pdf`, which injects the locally installed plotly.js).

>>> from alliance.monitoring import monitor_case, parse_cases
>>> case = parse_cases({"cases": [{"id": "c1", "modality": "individual",
...     "members": [{"id": "m1", "role": "client"}],
...     "sessions": [{"number": n, "attendance": "attended", "ratings": [
...         {"rater": "m1", "instrument": "pulse-3", "items": {"bond": v, "goal": v, "task": v}}]}
...         for n, v in [(1, 6), (2, 6), (3, 3)]]}]})[0]
>>> page = case_report_html(case, assess_progress(case, monitor_case(case), {}))
>>> "Case report: c1" in page and "Early alliance warning" in page and "attended: 3" in page
True
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Mapping
from html import escape
from typing import Any

from alliance.monitoring.alerts import findings
from alliance.monitoring.casefile import Case
from alliance.monitoring.progress import Progress, assess_progress

STYLE = """
@page { size: A4; margin: 12mm; }
body { font: 10pt/1.4 system-ui, sans-serif; color: #000; margin: 0; }
h1 { font-size: 15pt; margin: 0 0 2mm; } h2 { font-size: 11.5pt; margin: 4mm 0 1mm;
  border-bottom: 1px solid #999; } p, ul, ol { margin: 1mm 0; }
.meta { color: #333; } .sev { font-weight: 700; text-transform: uppercase; }
#chart { width: 180mm; height: 120mm; } li { break-inside: avoid; }
table { border-collapse: collapse; } td, th { padding: .5mm 2mm; text-align: left; }
"""

__all__ = ["assess_progress", "case_report_html"]


def case_report_html(case: Case, progress: Progress, *, labels: Mapping[str, str] | None = None,
                     figure: Any = None, clinic: str = "", when: dt.date | None = None,
                     title: str | None = None) -> str:
    """The report page (see the module docstring); ``figure`` is the Plotly figure dict."""
    names = dict(labels or {})

    def who(ref: str | None) -> str:
        return names.get(ref or "", ref or "the case")

    refs = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b") if names else None

    def text(value: Any) -> str:
        out = str(value)
        if refs is not None:
            out = refs.sub(lambda m: names[m.group(0)], out)
        return escape(out)

    report = progress.report
    alert = report.alert
    when = when or dt.date.today()
    heading = title or f"Case report: {case.id}"
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>{escape(heading)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{escape(heading)}</h1>",
             f"<p class='meta'>{escape(case.modality)} · members: "
             f"{escape(', '.join(who(m.id) for m in case.members))} · "
             f"{len(case.sessions)} sessions · printed {when.isoformat()}"
             f"{' · ' + escape(clinic) if clinic else ''}</p>", "<h2>Alert</h2>"]
    if alert is None:
        parts.append("<p>No open alert.</p>")
    else:
        found = findings(alert.evidence)
        parts.append(f"<p><span class='sev'>{escape(alert.severity)}</span> "
                     f"<strong>{text(alert.headline.split(': ', 1)[-1])}</strong></p>")
        parts.append("<p>Strongest evidence:</p><ul>" + "".join(
            f"<li>{text(f['explanation'])}"
            + (f" (meets: {escape(', '.join(f['criteria']))})" if f["criteria"] else "")
            + "</li>" for f in found[:3]) + "</ul>")
        if len(found) > 3:
            parts.append(f"<p class='meta'>{len(found) - 3} further piece(s) of evidence on "
                         f"the case page.</p>")
        parts.append("<p>Steps:</p><ol>" + "".join(f"<li>{text(s)}</li>" for s in alert.steps)
                     + "</ol>")
    parts.append("<h2>Outcome</h2>")
    if not progress.tracks:
        parts.append("<p>No outcome measure with expected-response curves.</p>")
    for (rater, inst), t in sorted(progress.tracks.items()):
        last = t.points[-1]
        status = (f"<strong>not on track</strong> since session {t.not_on_track_from}"
                  if t.not_on_track else "on track")
        parts.append(f"<p>{escape(inst)} ({escape(who(rater))}): {status}; latest "
                     f"{last.score:g} at session {last.session}, expected {last.expected:.1f}"
                     f" (band {last.lower:.1f}–{last.upper:.1f}); intake {t.intake:g}, "
                     f"{escape(t.band)}. <span class='meta'>Curves: {escape(t.source)}"
                     f"</span></p>")
    counts = Counter(s.attendance for s in case.sessions)
    homework = Counter(s.homework for s in case.sessions if s.homework != "none")
    parts.append("<h2>Attendance</h2><p>" + escape(" · ".join(
        f"{k.replace('_', ' ')}: {v}" for k, v in sorted(counts.items())))
        + ("; homework " + escape(" · ".join(f"{k.replace('_', ' ')}: {v}"
                                              for k, v in sorted(homework.items())))
           if homework else "") + "</p>")
    if figure is not None:
        data = json.dumps(figure).replace("</", "<\\/")
        parts.append("<h2>Trajectories</h2><div id='chart'></div>"
                     f"<script type='application/json' id='figure'>{data}</script>")
    parts.append("</body></html>")
    return "\n".join(parts)
