"""A readable text summary of monitoring reports, rendered with rich.

Used by ``alliance monitor --format text``. Colour only marks severity; the words carry the
meaning, so the summary reads the same in a plain terminal or a log file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from alliance.monitoring.report import CaseReport

STYLE = {"act": "bold red", "watch": "yellow", "info": "cyan"}


def render_report(report: CaseReport, *, show_info: bool = True) -> Panel:
    """One case: the alert and its steps, then the signals and episodes."""
    parts: list[object] = []
    alert = report.alert
    if alert is None:
        parts.append(Text("No alert: nothing in the last sessions calls for action.",
                          style="green"))
    else:
        parts.append(Text(alert.headline, style=STYLE[alert.severity]))
        parts.append(Text(f"alert {alert.id} · {len(alert.evidence)} signal(s) of evidence"))
        steps = Text()
        for n, step in enumerate(alert.steps, 1):
            steps.append(f"{n}. ", style="bold")
            steps.append(f"{step}\n")
        parts.append(Text("What to do:", style="bold"))
        parts.append(steps)
    signals = [s for s in report.signals if show_info or s.severity != "info"]
    if signals:
        table = Table(show_header=True, header_style="bold", expand=True, box=None)
        table.add_column("session", justify="right", no_wrap=True)
        table.add_column("signal", no_wrap=True)
        table.add_column("who", no_wrap=True)
        table.add_column("level", no_wrap=True)
        table.add_column("what it means")
        for s in signals:
            level = "ambiguous" if s.ambiguous else s.severity
            table.add_row(str(s.session), s.kind, s.member or "-",
                          Text(level, style=STYLE[s.severity]), s.explanation)
        parts.append(table)
    counts = Counter((e.criterion, e.status) for e in report.episodes)
    if counts:
        line = ", ".join(f"{n} {status} ({crit})" for (crit, status), n in sorted(counts.items()))
        parts.append(Text(f"Rupture-repair episodes: {line}"))
    title = f"case {report.case_id}"
    border = STYLE[alert.severity] if alert else "green"
    return Panel(Group(*parts), title=title, title_align="left",  # type: ignore[arg-type]
                 border_style=border)


def print_reports(reports: Sequence[CaseReport], console: Console, *,
                  show_info: bool = True) -> None:
    """Print every case, then a one-line total."""
    for report in reports:
        console.print(render_report(report, show_info=show_info))
    alerts = Counter(r.alert.severity for r in reports if r.alert)
    console.print(f"{len(reports)} case(s): {alerts.get('act', 0)} act, "
                  f"{alerts.get('watch', 0)} watch, "
                  f"{len(reports) - sum(alerts.values())} without an alert.")
