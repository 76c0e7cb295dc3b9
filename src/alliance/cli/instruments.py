"""``alliance instruments …``, ``alliance score`` and ``alliance reliability``."""

from __future__ import annotations

import json
import math
from typing import Any

import click


def _catalog() -> Any:
    from alliance.interop.specfiles import load_catalog

    return load_catalog()


def _json(obj: Any) -> str:
    def clean(x: Any) -> Any:
        if isinstance(x, float) and math.isnan(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(obj), indent=2, ensure_ascii=False)


@click.group("instruments")
def instruments_group() -> None:
    """List, show, validate and add instrument specs.

    \b
    Examples:
      alliance instruments list
      alliance instruments show alliance-12 --rater therapist
      alliance instruments show pulse-3 --lang es
      alliance instruments validate my-scale.yaml
      alliance instruments add wai-sr-wording.yaml
    """


@instruments_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def list_cmd(fmt: str) -> None:
    """List the instruments available here (bundled and added).

    \b
    Example:
      alliance instruments list --format json
    """
    catalog = _catalog()
    rows = [{"id": i.id, "version": i.version, "kind": i.kind, "title": i.title,
             "items": len(i.items), "scores": list(i.score_names), "raters": list(i.rater_types),
             "wording": "included" if i.has_text else "structure only",
             "languages": list(i.languages), "licence": i.licence}
            for i in catalog.values()]
    if fmt == "json":
        click.echo(_json(rows))
        return
    # Plain aligned columns, never cut to the terminal's width (a piped `list` used to lose
    # ids and titles at 80 columns); the licence is in `show` and in --format json.
    header = ("id", "kind", "items", "wording", "languages", "scores", "title")
    lines = [header] + [(r["id"], r["kind"], str(r["items"]), r["wording"],
                         ", ".join(r["languages"]) or "-", ", ".join(r["scores"]), r["title"])
                        for r in rows]
    widths = [max(len(line[c]) for line in lines) for c in range(len(header) - 1)]
    for line in lines:
        cells = [cell.ljust(w) for cell, w in zip(line, widths, strict=False)]
        click.echo("  ".join([*cells, line[-1]]).rstrip())


@instruments_group.command("show")
@click.argument("instrument_id")
@click.option("--rater", default="client", show_default=True,
              help="Whose wording to show (client, therapist, observer, family_member).")
@click.option("--lang", "language", default="en", show_default=True,
              help="Language of the wording, as a tag (es, fr, de, pt-BR...); without a version "
                   "in that language the English one is shown, with a note.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "yaml"]), default="text",
              show_default=True, help="json and yaml print the whole spec, every language.")
def show_cmd(instrument_id: str, rater: str, language: str, fmt: str) -> None:
    """Show one instrument: items, scoring, cutoffs and their sources.

    \b
    Examples:
      alliance instruments show alliance-12 --rater therapist
      alliance instruments show alliance-12 --rater family_member --lang fr
    """
    from alliance.instruments import spec_to_mapping

    inst = _catalog()[instrument_id]
    wording = inst.wording(rater, language)
    if fmt != "text":
        mapping = spec_to_mapping(inst)
        if fmt == "json":
            click.echo(_json(mapping))
        else:
            import yaml

            click.echo(yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True))
        return
    lo, hi = inst.score_range()
    if wording.note:
        click.echo(f"note: {wording.note}", err=True)
    click.echo(f"{wording.title}  [{inst.id} v{inst.version}]")
    click.echo(f"licence: {wording.licence or inst.licence}")
    if wording.language:
        click.echo(f"language: {wording.language} (available: {', '.join(inst.languages)})")
    click.echo(f"scoring: {inst.method} of items, total {lo:g}-{hi:g}; missing rule: "
               f"{inst.missing.rule} (at most {inst.missing.max_missing_per_subscale} missing "
               f"per subscale)")
    if wording.instructions:
        click.echo(f"\n{wording.instructions}")
    scale = inst.items[0].scale
    anchors = ", ".join(f"{k:g} = {v}" for k, v in wording.anchors.items())
    click.echo(f"answers: {scale.describe()}" + (f" ({anchors})" if anchors else ""))
    click.echo("")
    for item in inst.items:
        text = wording.text(item.id) or "(wording not included: structure-only spec)"
        flags = " [reverse]" if item.reverse else ""
        click.echo(f"  {item.id:>4}  {item.subscale or '':<12} {text}{flags}")
    for cut in inst.cutoffs:
        click.echo(f"\ncutoff: {cut.score} below {cut.below:g} = {cut.label}\n  source: "
                   f"{cut.source.strip()}")
    for thr in inst.thresholds:
        click.echo(f"\nthreshold: {thr.name} on {thr.score} = {thr.value:g}\n  source: "
                   f"{thr.source.strip()}")
    for est in inst.reliability:
        click.echo(f"\nreliability: {est.statistic} of {est.score} = {est.value:g}\n  source: "
                   f"{est.source.strip()}")


@instruments_group.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path())
def validate_cmd(files: tuple[str, ...]) -> None:
    """Validate spec files; exits 1 when any is invalid.

    \b
    Example:
      alliance instruments validate src/alliance/instruments/specs/*.yaml
    """
    from alliance.errors import InstrumentError
    from alliance.interop.specfiles import load_spec_file

    failed = 0
    for path in files:
        try:
            inst = load_spec_file(path)
        except InstrumentError as exc:
            failed += 1
            click.secho(f"invalid: {exc}", fg="red", err=True)
        else:
            languages = f", languages {', '.join(inst.languages)}" if inst.languages else ""
            click.echo(f"ok: {path} ({inst.id} v{inst.version}, {len(inst.items)} items"
                       f"{languages})")
    if failed:
        raise click.exceptions.Exit(1)


@instruments_group.command("add")
@click.argument("file", type=click.Path())
@click.option("--replace", is_flag=True, help="Overwrite an instrument added before.")
def add_cmd(file: str, replace: bool) -> None:
    """Add a spec, licensed wording for a structure-only spec, or a language, to this installation.

    A wording file names its instrument; with `language: es` (any tag) it adds that language
    to an instrument that already has wording. The result is written to
    $ALLIANCE_INSTRUMENTS_DIR (default ~/.local/share/alliance/instruments), never into the
    source tree.

    \b
    Example:
      alliance instruments add wai-sr-wording.yaml
      alliance instruments add wai-sr-wording-es.yaml
    """
    from alliance.interop.specfiles import add_instrument

    inst, target = add_instrument(file, replace=replace)
    languages = f", languages {', '.join(inst.languages)}" if inst.languages else ""
    click.echo(f"added {inst.id} v{inst.version} ({len(inst.items)} items, wording "
               f"{'included' if inst.has_text else 'not included'}{languages}) -> {target}")


@click.command("score")
@click.argument("file", type=click.Path())
@click.option("--instrument", "instrument_id", required=True, help="Instrument id.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "parquet"]), default="csv",
              show_default=True, help="Output format.")
@click.option("--out", type=click.Path(), help="Output file (stdout when omitted).")
@click.option("--input-format", type=click.Choice(["csv", "tsv", "xlsx", "parquet", "json"]),
              help="Input format (default: from the file suffix).")
def score_cmd(file: str, instrument_id: str, fmt: str, out: str | None,
              input_format: str | None) -> None:
    """Score a table of responses (one row per response, item columns named by item id).

    Other columns (client id, session, date...) are carried through. For every subscale and
    the total the output has _raw, _pom (percent of maximum), _status (complete, prorated,
    invalid) and _note columns.

    \b
    Examples:
      alliance score examples/responses.csv --instrument alliance-12
      alliance score big.parquet --instrument alliance-12 --format parquet --out scores.parquet
    """
    from alliance.instruments import score_table
    from alliance.interop.tables import read_table, write_table

    inst = _catalog()[instrument_id]
    table = read_table(file, input_format, list(inst.item_ids))
    scored = score_table(inst, table)
    text = write_table(scored, out, fmt)  # type: ignore[arg-type]
    if text is not None:
        click.echo(text, nl=False)
    else:
        invalid = int((scored["total_status"] == "invalid").sum())
        click.echo(f"scored {len(scored)} responses ({invalid} with an invalid total) -> {out}",
                   err=True)


@click.command("reliability")
@click.argument("file", type=click.Path())
@click.option("--instrument", "instrument_id", required=True, help="Instrument id.")
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.95,
              show_default=True, help="Confidence level of the alpha interval.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--input-format", type=click.Choice(["csv", "tsv", "xlsx", "parquet", "json"]))
def reliability_cmd(file: str, instrument_id: str, confidence: float, fmt: str,
                    input_format: str | None) -> None:
    """Cronbach's alpha (Feldt CI), McDonald's omega and item statistics per score.

    \b
    Example:
      alliance reliability examples/responses.csv --instrument alliance-12
    """
    from dataclasses import asdict

    from alliance.instruments.reliability import scale_reliability
    from alliance.interop.tables import read_table

    inst = _catalog()[instrument_id]
    results = scale_reliability(inst, read_table(file, input_format, list(inst.item_ids)),
                                confidence)
    if fmt == "json":
        click.echo(_json([asdict(r) for r in results]))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for r in results:
        a = r.alpha
        omega = f"{r.omega.omega_total:.3f}" if r.omega else "n/a"
        console.print(f"[bold]{inst.id} {r.score}[/bold]: {len(r.items)} items, n = {r.n_used}"
                      + (f" ({r.n_dropped} incomplete rows dropped)" if r.n_dropped else ""))
        console.print(f"  alpha = {a.alpha:.3f}  {a.confidence:.0%} CI [{a.ci_low:.3f}, "
                      f"{a.ci_high:.3f}] (Feldt)   omega total = {omega}")
        if r.note:
            console.print(f"  {r.note}")
        table = Table(show_edge=False, pad_edge=False)
        for col in ("item", "mean", "sd", "r (corrected item-total)", "alpha if deleted"):
            table.add_column(col, justify="right")
        for s in r.item_stats:
            table.add_row(s.item, f"{s.mean:.2f}", f"{s.sd:.2f}",
                          f"{s.corrected_item_total:.3f}",
                          "n/a" if math.isnan(s.alpha_if_deleted) else f"{s.alpha_if_deleted:.3f}")
        console.print(table)
        console.print("")


def register(main: click.Group) -> None:
    """Add the instrument, scoring and reliability commands to ``main``."""
    main.add_command(instruments_group)
    main.add_command(score_cmd)
    main.add_command(reliability_cmd)
