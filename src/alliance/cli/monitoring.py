"""CLI commands for monitoring: ``monitor``, ``plot`` and ``examples synthetic``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click


@click.command("monitor")
@click.argument("casefile", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Policy YAML overriding the default thresholds.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="A readable summary, or JSON for other programs.")
@click.option("--no-info", is_flag=True, help="Text format: hide info-level signals.")
def monitor_command(casefile: Path, policy_file: Path | None, fmt: str, no_info: bool) -> None:
    """Find ruptures, strain and early warnings in a case file; suggest repair steps.

    \b
    Example:
      alliance monitor examples/cases/example.json
      alliance monitor cases.json --policy clinic-policy.yaml --format json > report.json
    """
    from alliance.interop.casefiles import load_case_file, load_policy_file
    from alliance.monitoring import default_policy, monitor_cases
    from alliance.monitoring.safety import fold_risk

    policy = load_policy_file(policy_file) if policy_file else default_policy()
    cases = load_case_file(casefile)
    # a risk answer leads the alert here as on the case page (monitoring/safety.py)
    reports = [fold_risk(case, report)
               for case, report in zip(cases, monitor_cases(cases, policy), strict=True)]
    if fmt == "json":
        click.echo(json.dumps({"cases": [r.to_dict() for r in reports]}, indent=2,
                              ensure_ascii=False))
        return
    from rich.console import Console

    from alliance.monitoring.summary import print_reports

    print_reports(reports, Console(), show_info=not no_info)


@click.command("plot")
@click.argument("casefile", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--case", "case_id", required=True, help="Id of the case to chart.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Output file: .html (self-contained) or .png. Default: <case>.html.")
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Policy YAML overriding the default thresholds.")
def plot_command(casefile: Path, case_id: str, out: Path | None,
                 policy_file: Path | None) -> None:
    """Chart a case's alliance trajectory with ruptures, repairs and attendance.

    \b
    Example:
      alliance plot examples/cases/example.json --case c1 --out c1.html
    """
    from alliance.errors import CaseFileError, ConfigError
    from alliance.interop.casefiles import load_case_file, load_policy_file
    from alliance.monitoring import default_policy, monitor_case
    from alliance.monitoring.plot import trajectory_figure

    out = out or Path(f"{case_id}.html")
    suffix = out.suffix.lower()
    if suffix not in (".html", ".png"):
        raise ConfigError(f"{out}: the chart can be written as .html or .png, not "
                          f"{suffix or 'a file without a suffix'}")
    policy = load_policy_file(policy_file) if policy_file else default_policy()
    cases = {c.id: c for c in load_case_file(casefile)}
    if case_id not in cases:
        known = ", ".join(list(cases)[:10]) + (" ..." if len(cases) > 10 else "")
        raise CaseFileError(f"{casefile}: no case {case_id!r}; cases: {known or 'none'}")
    case = cases[case_id]
    fig = trajectory_figure(case, monitor_case(case, policy), policy)
    if suffix == ".html":
        fig.write_html(out, include_plotlyjs=True, full_html=True)
    else:
        _write_png(fig, out)
    click.echo(f"wrote {out}")


def _write_png(fig: object, out: Path) -> None:
    """Render a static PNG with kaleido, which drives a locally installed Chrome/Chromium
    (nothing is downloaded and nothing leaves the machine)."""
    import shutil

    from alliance.errors import ConfigError

    browsers = ("chromium", "chromium-browser", "google-chrome", "chrome")
    if not os.environ.get("BROWSER_PATH") and not any(shutil.which(b) for b in browsers):
        raise ConfigError("PNG export needs a Chrome or Chromium browser on this machine "
                          "(Debian: apt-get install chromium; or set BROWSER_PATH); "
                          "--out FILE.html works without one")
    try:
        fig.write_image(out, width=1100, height=650, scale=1)  # type: ignore[attr-defined]
    except (OSError, RuntimeError, ValueError) as exc:
        raise ConfigError(f"{out}: PNG export failed ({exc}); --out FILE.html works "
                          f"without a browser") from None


@click.group("examples")
def examples_group() -> None:
    """Generate example data.

    \b
    Example:
      alliance examples synthetic --cases 50 --seed 1 --out cases.json
    """


@examples_group.command("synthetic")
@click.option("--cases", "n_cases", type=click.IntRange(1, 1_000_000), default=20,
              show_default=True, help="How many cases to generate.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Random seed (same seed, same file).")
@click.option("--sessions", type=click.IntRange(2, 200), default=None,
              help="Fix the number of scheduled sessions per case.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Case file to write (JSON).")
@click.option("--truth", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the ground truth (default: OUT with .truth.json).")
@click.option("--outcomes", is_flag=True,
              help="Also plant outcome-measure paths (PHQ-9 or ORS), some not on track.")
def synthetic_command(n_cases: int, seed: int, sessions: int | None, out: Path,
                      truth: Path | None, outcomes: bool) -> None:
    """Write a realistic synthetic case file with planted events and their ground truth.

    \b
    Example:
      alliance examples synthetic --cases 200 --seed 7 --out demo.json
      alliance monitor demo.json
    """
    from alliance.errors import InputFileError
    from alliance.monitoring import synthetic

    data, planted = synthetic.generate(n_cases, seed, sessions=sessions, outcomes=outcomes)
    truth = truth or out.with_name(out.stem + ".truth.json")
    try:
        out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        truth.write_text(json.dumps(planted, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputFileError(f"cannot write {exc.filename}: {exc.strerror}") from None
    click.echo(f"wrote {n_cases} case(s) to {out} and the planted events to {truth}")


@click.group("outcomes")
def outcomes_group() -> None:
    """Expected treatment response: fit curves, find clients not on track.

    \b
    Examples:
      alliance outcomes fit cases.json --instrument phq-9 --out phq9-expected.json
      alliance outcomes track cases.json --expected phq9-expected.json
    """


@outcomes_group.command("fit")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--instrument", required=True, help="The outcome instrument, e.g. phq-9.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the curves (JSON).")
@click.option("--source-note", default=None, help="Where the data came from (kept in the file).")
def outcomes_fit_command(source: Path, instrument: str, out: Path,
                         source_note: str | None) -> None:
    """Fit expected-change curves by intake severity from your clinic's own data.

    SOURCE is a case file (JSON), or a table (CSV, TSV, Excel, Parquet) with the columns
    case_id, session and score (the instrument's total).

    \b
    Example:
      alliance outcomes fit cases.json --instrument phq-9 --out phq9-expected.json
    """
    from alliance.errors import InputFileError
    from alliance.monitoring.outcomes import fit_expected_response, outcome_table

    if source.suffix.lower() == ".json":
        from alliance.interop.casefiles import load_case_file

        table = outcome_table(load_case_file(source), instrument)
    else:
        from alliance.interop.tables import read_table

        table = read_table(source)
    model = fit_expected_response(table, instrument, source=source_note or (
        f"fitted on {source.name}"))
    try:
        out.write_text(json.dumps(model.to_dict(), indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputFileError(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"{instrument}: {model.cases} clients; curves by intake band:")
    for c in model.curves:
        click.echo(f"  {c.label:<32} {c.cases:>5} clients  expected change "
                   f"{c.slope:+.2f} x ln(session)  band +-{c.half_width(8, model.z):.1f} "
                   f"at the 8th rating")
    click.echo(f"wrote {out}")


@outcomes_group.command("track")
@click.argument("casefile", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--expected", "expected_file", type=click.Path(dir_okay=False, path_type=Path),
              multiple=True, help="Curves from `alliance outcomes fit` (default: the bundled "
                                  "curves fitted on synthetic data).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def outcomes_track_command(casefile: Path, expected_file: tuple[Path, ...], fmt: str) -> None:
    """Read each client's outcome measure against the expected response.

    \b
    Example:
      alliance outcomes track examples/cases/example.json
    """
    from alliance.errors import InputFileError
    from alliance.interop.casefiles import load_case_file
    from alliance.monitoring.outcomes import (
        load_expected_response,
        outcome_series,
        parse_expected_response,
        track_outcome,
    )

    models = {}
    for path in expected_file:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputFileError(f"{path}: cannot read ({exc})") from None
        model = parse_expected_response(data, str(path))
        models[model.instrument] = model
    rows = []
    for case in load_case_file(casefile):
        for (rater, inst), series in outcome_series(case).items():
            if inst not in models:
                models[inst] = load_expected_response(inst)
            t = track_outcome(series, models[inst])
            last = t.points[-1]
            rows.append({"case": case.id, "rater": rater, "instrument": inst,
                         "intake": t.intake, "band": t.band, "sessions": len(t.points),
                         "latest": last.score, "expected": round(last.expected, 2),
                         "not_on_track_from": t.not_on_track_from, "source": t.source})
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no outcome-measure ratings in this case file")
        return
    for r in rows:
        status = (f"NOT ON TRACK since session {r['not_on_track_from']}"
                  if r["not_on_track_from"] else "on track")
        click.echo(f"{r['case']:<10} {r['rater']:<8} {r['instrument']:<7} intake "
                   f"{r['intake']:>5g} ({r['band']}), latest {r['latest']:g} vs expected "
                   f"{r['expected']:g}: {status}")


def register(main: click.Group) -> None:
    """Add this module's commands to ``main``."""
    main.add_command(outcomes_group)
    main.add_command(monitor_command)
    main.add_command(plot_command)
    main.add_command(examples_group)
