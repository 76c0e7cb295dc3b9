"""``alliance stats …`` (multilevel reliability, alliance-outcome), ``alliance fhir …`` and
``alliance convokit …``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from alliance.errors import InputFileError


def _dump(obj: Any) -> str:
    from alliance.cli.instruments import _json

    return str(_json(obj))


def _write(text: str, out: str | None) -> None:
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    try:
        Path(out).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputFileError(f"{out}: cannot write ({exc.strerror or exc})") from None
    click.echo(f"wrote {out}", err=True)


_FIGURE = click.option("--figure", "figure_path", type=click.Path(),
                       help="Write the Plotly figure: .html (self-contained, no network) or "
                            ".json.")


def _check_figure_path(path: str | None) -> None:
    if path and Path(path).suffix.lower() not in (".html", ".json"):
        raise InputFileError(f"{path}: the figure is written as .html or .json")


def _write_figure(fig: Any, path: str) -> None:
    try:
        if path.lower().endswith(".html"):
            fig.write_html(path, include_plotlyjs=True, full_html=True)
        else:
            Path(path).write_text(fig.to_json(), encoding="utf-8")
    except OSError as exc:
        raise InputFileError(f"{path}: cannot write ({exc.strerror or exc})") from None
    click.echo(f"wrote {path}", err=True)


def _emit_table(table: Any, out: str | None, fmt: str | None, summary: str) -> None:
    """Write ``table`` to ``out`` (format from ``fmt``, else the suffix, else csv) or print
    it; a written file is announced on stderr with ``summary``."""
    from alliance.interop.tables import write_table

    kind = fmt or ("json" if out and out.lower().endswith(".json") else "csv")
    written = write_table(table, out, kind)  # type: ignore[arg-type]
    if written is not None:
        click.echo(written, nl=False)
    else:
        click.echo(f"{summary} -> {out}", err=True)


def _catalog() -> Any:
    from alliance.interop.specfiles import load_catalog

    return load_catalog()


@click.group("stats")
def stats_group() -> None:
    """Research statistics on repeated measurements.

    \b
    Examples:
      alliance stats reliability examples/research/diary.csv --items i1,i2,i3
      alliance stats alliance-outcome examples/research/sessions.csv
    """


@stats_group.command("reliability")
@click.argument("file", type=click.Path())
@click.option("--person", default="person", show_default=True, help="Column naming the person.")
@click.option("--time", "time_col", default="time", show_default=True,
              help="Column naming the occasion (session, day).")
@click.option("--items", help="Comma-separated item columns of a wide table.")
@click.option("--instrument", "instrument_id",
              help="Use this instrument's items (validated and reverse keyed as for scoring).")
@click.option("--score", help="With --instrument: one subscale's items only.")
@click.option("--method", type=click.Choice(["auto", "anova", "reml"]), default="auto",
              show_default=True, help="auto: ANOVA when balanced, else REML.")
@_FIGURE
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text",
              show_default=True)
@click.option("--input-format", type=click.Choice(["csv", "parquet", "json"]))
def reliability_cmd(file: str, person: str, time_col: str, items: str | None,
                    instrument_id: str | None, score: str | None, method: str,
                    figure_path: str | None, fmt: str, input_format: str | None) -> None:
    """Multilevel reliability of items repeated over sessions (Shrout & Lane 2012).

    Variance components of persons x occasions x items and the coefficients R1F, RkF,
    R1R, RkR, Rc (change), RkRn and Rcn. One row per person and occasion.

    \b
    Examples:
      alliance stats reliability examples/research/diary.csv --items i1,i2,i3 \\
          --figure reliability.html
      alliance stats reliability responses.csv --person client --time session \\
          --instrument alliance-12 --score bond --format json
    """
    import pandas as pd

    from alliance.errors import ReliabilityError
    from alliance.instruments.multilevel import multilevel_reliability
    from alliance.interop.tables import read_table

    _check_figure_path(figure_path)
    if (items is None) == (instrument_id is None):
        raise ReliabilityError("give either --items COL,COL,... or --instrument ID")
    if score and not instrument_id:
        raise ReliabilityError("--score needs --instrument")
    if instrument_id:
        from alliance.instruments.scoring import item_matrix

        inst = _catalog()[instrument_id]
        columns = list(inst.item_ids)
        if score:
            sub = next((s for s in inst.subscales if s.id == score), None)
            if sub is None:
                raise ReliabilityError(f"{inst.id} has no subscale {score!r}; subscales: "
                                       f"{', '.join(s.id for s in inst.subscales) or 'none'}")
            columns = list(sub.items)
        table = read_table(file, input_format, list(inst.item_ids))
        for col in (person, time_col):
            if col not in table.columns:
                raise ReliabilityError(f"no column {col!r}; the table has "
                                       f"{', '.join(map(str, table.columns))}")
        keyed = pd.DataFrame(item_matrix(inst, table), columns=list(inst.item_ids))
        data = pd.concat([table[[person, time_col]].reset_index(drop=True),
                          keyed[columns]], axis=1)
    else:
        columns = [c.strip() for c in (items or "").split(",") if c.strip()]
        data = read_table(file, input_format, columns)
    result = multilevel_reliability(data, person=person, time=time_col, items=columns,
                                    method=method)  # type: ignore[arg-type]
    if figure_path:
        _write_figure(result.figure(), figure_path)
    comps, coefs = result.components_frame(), result.coefficients_frame()
    if fmt == "json":
        click.echo(_dump({"method": result.method, "n_persons": result.n_persons,
                          "n_times": result.n_times, "n_items": result.n_items,
                          "n_observations": result.n_observations, "k": result.k,
                          "m": result.m, "components": comps.to_dict(orient="records"),
                          "coefficients": result.coefficients, "notes": list(result.notes)}))
        return
    if fmt == "csv":
        click.echo(coefs[["coefficient", "value"]].to_csv(index=False), nl=False)
        return
    click.echo(f"{result.n_persons} persons x {result.n_times} occasions x {result.n_items} "
               f"items, {result.n_observations} answers; method {result.method}"
               + (f" (k = {result.k:.2f}, m = {result.m:.2f}, harmonic means)"
                  if result.method == "reml" else ""))
    for model in ("crossed", "nested"):
        click.echo(f"\nvariance components ({model} model):")
        for _, row in comps[comps["model"] == model].iterrows():
            click.echo(f"  {row['component']:<14} {row['variance']:8.4f}  "
                       f"{row['percent']:5.1f}%")
    click.echo("\nreliability:")
    for _, row in coefs.iterrows():
        click.echo(f"  {row['coefficient']:<5} {row['value']:.3f}  {row['meaning']}")
    for note in result.notes:
        click.echo(f"note: {note}", err=True)


@stats_group.command("alliance-outcome")
@click.argument("file", type=click.Path())
@click.option("--person", default="client", show_default=True, help="Column naming the client.")
@click.option("--session", default="session", show_default=True,
              help="Column of whole session numbers.")
@click.option("--alliance", "alliance_col", default="alliance", show_default=True,
              help="Column of the alliance score.")
@click.option("--outcome", default="outcome", show_default=True,
              help="Column of the outcome score.")
@click.option("--trend/--no-trend", default=True, show_default=True,
              help="Include a linear session trend.")
@click.option("--adjust-outcome", is_flag=True,
              help="Also adjust for the current session's outcome (predicts change).")
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.95,
              show_default=True)
@_FIGURE
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text",
              show_default=True)
@click.option("--input-format", type=click.Choice(["csv", "parquet", "json"]))
def alliance_outcome_cmd(file: str, person: str, session: str, alliance_col: str,
                         outcome: str, trend: bool, adjust_outcome: bool, confidence: float,
                         figure_path: str | None, fmt: str, input_format: str | None) -> None:
    """Does a session's alliance predict the next session's outcome? Within and between.

    A random-intercept mixed model of next-session outcome on the person-mean-centred
    (within-person) alliance and the person mean (between-person), one session earlier.

    \b
    Example:
      alliance stats alliance-outcome examples/research/sessions.csv --figure effects.html
    """
    from alliance.interop.tables import read_table
    from alliance.outcome import fit_alliance_outcome

    _check_figure_path(figure_path)
    table = read_table(file, input_format)
    result = fit_alliance_outcome(table, person=person, session=session,
                                  alliance=alliance_col, outcome=outcome, trend=trend,
                                  adjust_outcome=adjust_outcome, confidence=confidence)
    if figure_path:
        _write_figure(result.figure(), figure_path)
    if fmt == "csv":
        click.echo(result.table.to_csv(index=False), nl=False)
        return
    if fmt == "json":
        click.echo(_dump({"n_persons": result.n_persons, "n_pairs": result.n_pairs,
                          "person_variance": result.person_variance,
                          "residual_variance": result.residual_variance,
                          "confidence": result.confidence, "converged": result.converged,
                          "effects": result.table.to_dict(orient="records"),
                          "notes": list(result.notes)}))
        return
    level = round(100 * confidence)
    click.echo(f"{result.n_persons} clients, {result.n_pairs} consecutive-session pairs; "
               f"person variance {result.person_variance:.3f}, residual "
               f"{result.residual_variance:.3f}")
    for _, row in result.table.iterrows():
        click.echo(f"  {row['term']:<17} {row['estimate']:8.3f}  {level}% CI "
                   f"[{row['ci_low']:.3f}, {row['ci_high']:.3f}]  p = {row['p_value']:.3g}  "
                   f"{row['effect']}")
    for note in result.notes:
        click.echo(f"note: {note}", err=True)


@click.group("fhir")
def fhir_group() -> None:
    """FHIR R4: export instruments, responses and scores; import responses.

    \b
    Examples:
      alliance fhir export questionnaire alliance-12 --out alliance-12.json
      alliance fhir export responses examples/responses.csv --instrument alliance-12
      alliance fhir import bundle.json --out responses.csv
    """


@fhir_group.group("export")
def export_group() -> None:
    """Export FHIR resources (validated with fhir.resources R4B).

    \b
    Examples:
      alliance fhir export questionnaire alliance-12
      alliance fhir export codesystem --out alliance-codes.json
      alliance fhir export responses examples/responses.csv --instrument alliance-12
    """


_BASE = click.option("--base", default=None,
                     help="Base URL of your FHIR canonical URLs (default: "
                          "https://alliance.invalid/fhir).")
_OUT = click.option("--out", type=click.Path(), help="Write to this file instead of stdout.")


def _base(base: str | None) -> str:
    from alliance.interop.fhir import DEFAULT_BASE

    if base is None:
        return DEFAULT_BASE
    if not base.startswith(("http://", "https://", "urn:")):
        from alliance.errors import FhirError

        raise FhirError(f"--base must be an http(s) or urn URL, not {base!r}")
    return base


@export_group.command("questionnaire")
@click.argument("instrument_id")
@click.option("--rater", default=None,
              help="Whose wording (a rater type); default the instrument's first, usually client.")
@click.option("--include-licensed-wording", is_flag=True,
              help="Include wording you added for a licensed instrument (your licence must "
                   "allow it).")
@_BASE
@_OUT
def export_questionnaire_cmd(instrument_id: str, rater: str | None,
                             include_licensed_wording: bool,
                             base: str | None, out: str | None) -> None:
    """An instrument as a FHIR Questionnaire.

    \b
    Example:
      alliance fhir export questionnaire alliance-12 --rater therapist
    """
    from alliance.interop.fhir import questionnaire

    resource = questionnaire(_catalog()[instrument_id], rater=rater, base=_base(base),
                             include_licensed_wording=include_licensed_wording)
    _write(_dump(resource), out)


@export_group.command("codesystem")
@_BASE
@_OUT
def export_codesystem_cmd(base: str | None, out: str | None) -> None:
    """The project CodeSystem (instruments, items, scores, answers; no wording).

    \b
    Example:
      alliance fhir export codesystem --out alliance-codes.json
    """
    from alliance.interop.fhir import code_system

    _write(_dump(code_system(_catalog(), base=_base(base))), out)


@export_group.command("responses")
@click.argument("file", type=click.Path())
@click.option("--instrument", "instrument_id", required=True, help="Instrument id.")
@click.option("--id-column", default="response_id", show_default=True)
@click.option("--subject-column", default="client", show_default=True,
              help="Column with the client's pseudonym (becomes Patient/<id>).")
@click.option("--date-column", default=None, help="Column with the response date.")
@click.option("--rater", default=None, help="Rater recorded on every response.")
@click.option("--rater-type", default=None,
              help="Which version was answered (client, therapist...); default the first.")
@click.option("--scores/--no-scores", default=True, show_default=True,
              help="Add an Observation per score.")
@click.option("--input-format", type=click.Choice(["csv", "parquet", "json"]))
@_BASE
@_OUT
def export_responses_cmd(file: str, instrument_id: str, id_column: str, subject_column: str,
                         date_column: str | None, rater: str | None,
                         rater_type: str | None, scores: bool,
                         input_format: str | None, base: str | None, out: str | None) -> None:
    """A table of responses as a FHIR Bundle of QuestionnaireResponses and Observations.

    \b
    Example:
      alliance fhir export responses examples/responses.csv --instrument alliance-12 \\
          --out bundle.json
    """
    from alliance.interop.fhir import responses_bundle
    from alliance.interop.tables import read_table

    inst = _catalog()[instrument_id]
    table = read_table(file, input_format, list(inst.item_ids))
    bundle = responses_bundle(inst, table, id_column=id_column, subject_column=subject_column,
                              date_column=date_column, rater=rater, rater_type=rater_type,
                              scores=scores, base=_base(base))
    _write(_dump(bundle), out)


@fhir_group.command("import")
@click.argument("file", type=click.Path())
@click.option("--out", type=click.Path(), help="Write the table here (.csv or .json).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default=None,
              help="Output format (default: from --out, else csv).")
def import_cmd(file: str, out: str | None, fmt: str | None) -> None:
    """QuestionnaireResponses (a resource or a Bundle) back into a response table.

    The table has one row per response and one column per item, ready for
    `alliance score`.

    \b
    Example:
      alliance fhir import bundle.json --out responses.csv
    """
    from alliance.interop.fhir import read_responses_file, responses_table

    catalog = _catalog()
    table = responses_table(read_responses_file(file, catalog), catalog)
    _emit_table(table, out, fmt, f"imported {len(table)} responses")


@click.group("convokit")
def convokit_group() -> None:
    """Coded sessions as a ConvoKit corpus (codes and episodes as metadata), and back.

    \b
    Examples:
      alliance convokit export --rules-only --out corpus/ sessions/*.txt
      alliance convokit import corpus/ --out codes.csv
    """


def _model_options(command: Any) -> Any:
    from alliance.cli.transcripts import model_options

    return model_options(command)


@convokit_group.command("export")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="The corpus folder to write.")
@click.option("--name", default="alliance-corpus", show_default=True, help="Corpus name.")
@click.option("--roles", help="Speaker roles, e.g. SPEAKER_00=therapist,SPEAKER_01=client.")
@click.option("--input-format", help="Transcript format (default: detected).")
@click.option("--rules-only", is_flag=True,
              help="Code with rules and context features only (no embedding model).")
@_model_options
def convokit_export_cmd(files: tuple[str, ...], out_dir: str, name: str, roles: str | None,
                        input_format: str | None, rules_only: bool, model_path: str | None,
                        no_verify_model: bool, encoder: str | None) -> None:
    """Code transcripts and write them as one ConvoKit corpus.

    Every FILE is a session (any transcript format alliance reads); the first unreadable
    file stops the export with its error.

    \b
    Example:
      alliance convokit export --rules-only --out corpus/ examples/transcripts/session.txt
    """
    from alliance.coding.coder import load_coder
    from alliance.interop.convokit import export_corpus
    from alliance.transcripts import parse_roles, read_transcript

    role_map = parse_roles(roles) if roles else None
    transcripts = [read_transcript(f, input_format=input_format, roles=role_map)
                   for f in files]
    coder = load_coder(rules_only=rules_only, model_path=model_path,
                       verify_model=False if no_verify_model else None, encoder=encoder)
    out = export_corpus(coder.code_many(transcripts), out_dir, name=name)
    click.echo(f"wrote {len(transcripts)} sessions -> {out}", err=True)


@convokit_group.command("import")
@click.argument("directory", type=click.Path())
@click.option("--episodes", is_flag=True, help="List the episodes instead of the codes.")
@click.option("--out", type=click.Path(), help="Write the table here (.csv or .json).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default=None,
              help="Output format (default: from --out, else csv).")
def convokit_import_cmd(directory: str, episodes: bool, out: str | None,
                        fmt: str | None) -> None:
    """Read a ConvoKit corpus back: one row per code (or per episode with --episodes).

    \b
    Example:
      alliance convokit import corpus/ --episodes --format json
    """
    from alliance.interop.convokit import codes_frame, episodes_frame, import_corpus

    sessions = import_corpus(directory)
    table = episodes_frame(sessions) if episodes else codes_frame(sessions)
    _emit_table(table, out, fmt, f"{len(sessions)} sessions, {len(table)} rows")


def register(main: click.Group) -> None:
    """Add ``stats``, ``fhir`` and ``convokit`` to ``main``."""
    main.add_command(stats_group)
    main.add_command(fhir_group)
    main.add_command(convokit_group)
