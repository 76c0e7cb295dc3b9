"""``alliance report``: the printable case report (PDF) from a case file."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("report")
@click.argument("casefile", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--case", "case_id", required=True, help="Id of the case to report on.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The PDF to write (.pdf).")
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Policy YAML overriding the default thresholds.")
@click.option("--expected", "expected_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of expected-response curves (<instrument>.json from `alliance "
                   "outcomes fit`); default: the bundled curves.")
@click.option("--browser", default=None, help="Chromium executable (default: on PATH).")
def report_command(casefile: Path, case_id: str, out: Path, policy_file: Path | None,
                   expected_dir: Path | None, browser: str | None) -> None:
    """Write a one-to-two-page case report (trajectories, alert with evidence and steps,
    outcome status, attendance) as PDF, rendered by the local Chromium.

    \b
    Example:
      alliance report examples/cases/example.json --case c1 --out c1.pdf
    """
    from alliance.errors import CaseFileError, ConfigError
    from alliance.instruments import builtin_catalog
    from alliance.interop.casefiles import load_case_file, load_policy_file
    from alliance.interop.pdf import html_to_pdf
    from alliance.monitoring import default_policy, monitor_case
    from alliance.monitoring.plot import trajectory_figure
    from alliance.monitoring.printout import case_report_html
    from alliance.monitoring.progress import assess_progress, expected_models

    if out.suffix.lower() != ".pdf":
        raise ConfigError(f"{out}: the report is written as .pdf")
    if expected_dir is not None and not expected_dir.is_dir():
        raise ConfigError(f"{expected_dir}: no such folder of expected-response curves")
    policy = load_policy_file(policy_file) if policy_file else default_policy()
    cases = {c.id: c for c in load_case_file(casefile)}
    if case_id not in cases:
        known = ", ".join(list(cases)[:10]) + (" ..." if len(cases) > 10 else "")
        raise CaseFileError(f"{casefile}: no case {case_id!r}; cases: {known or 'none'}")
    case = cases[case_id]
    catalog = builtin_catalog()
    progress = assess_progress(case, monitor_case(case, policy, catalog),
                               expected_models(catalog, expected_dir), catalog)
    figure = trajectory_figure(case, progress.report, policy, catalog, tracks=progress.tracks)
    figure.update_layout(title=None, margin={"l": 50, "r": 10, "t": 10, "b": 40},
                         legend={"orientation": "h", "y": -0.15, "font": {"size": 9}})
    html = case_report_html(case, progress, figure=json.loads(figure.to_json()))
    pdf = html_to_pdf(html, browser=browser)
    try:
        out.write_bytes(pdf)
    except OSError as exc:
        raise ConfigError(f"cannot write {out}: {exc.strerror}") from None
    status = "not on track" if progress.not_on_track else "on track or not measured"
    click.echo(f"wrote {out} ({len(pdf):,} bytes; case {case_id}: {status})")


def register(main: click.Group) -> None:
    """Add this module's commands to ``main``."""
    main.add_command(report_command)
