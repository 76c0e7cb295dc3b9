"""CLI commands for transcripts: ``deidentify`` and the hidden ``transcripts show``.

Each command is its own function; :func:`register` adds them to the main group, so more
transcript commands (``analyze``, ``coding``) can be registered beside them.
"""

from __future__ import annotations

from pathlib import Path

import click

INPUT_FORMATS = ("text", "vtt", "srt", "whisper-json", "csv", "convokit")


@click.command("deidentify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--roster", type=click.Path(dir_okay=False, path_type=Path),
              help="File with names to remove, one per line (# starts a comment).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the result here instead of to standard output.")
@click.option("--input-format", type=click.Choice(INPUT_FORMATS),
              help="Format of FILE (detected when omitted; unknown text is treated as plain).")
def deidentify_command(file: Path, roster: Path | None, out: Path | None,
                       input_format: str | None) -> None:
    """Remove identifiers from a transcript, keeping its format.

    Replaces e-mail addresses, phone numbers, dates, URLs, street addresses, postcodes and
    ID-like numbers with [EMAIL], [PHONE], [DATE], [URL], [ADDRESS] and [ID], and the names
    in --roster, and speakers' names wherever they are spoken, with [NAME] (speaker labels
    that are names become PERSON_1, PERSON_2, ...).
    Nothing leaves this machine. A summary of what was replaced goes to standard error.

    \b
    Examples:
      alliance deidentify session.vtt --roster names.txt --out session.deid.vtt
      alliance deidentify notes.txt > notes.deid.txt
    """
    from alliance.errors import DeidentificationError, TranscriptError
    from alliance.transcripts.documents import deidentify_document
    from alliance.transcripts.roster import read_roster

    names = read_roster(roster) if roster is not None else ()
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise TranscriptError(f"{file}: file not found", path=str(file)) from None
    except OSError as exc:
        raise TranscriptError(f"{file}: cannot be read ({exc.strerror})",
                              path=str(file)) from None
    if out is not None and out.resolve() == file.resolve():
        raise DeidentificationError(f"{out}: --out must differ from the input file, so the "
                                    "original is never overwritten")
    result = deidentify_document(data, str(file), names, input_format=input_format)
    if out is None:
        click.echo(result.text, nl=not result.text.endswith("\n"))
    else:
        try:
            out.write_text(result.text, encoding="utf-8")
        except OSError as exc:
            raise DeidentificationError(f"{out}: cannot write ({exc.strerror})") from None
    summary = ", ".join(f"{kind} {n}" for kind, n in sorted(result.counts.items())) or "nothing"
    click.echo(f"{file} ({result.format}): replaced {summary}", err=True)


@click.group("transcripts", hidden=True)
def transcripts_group() -> None:
    """Inspect transcript files.

    \b
    Example:
      alliance transcripts show session.vtt --roles SPEAKER_00=therapist,SPEAKER_01=client
    """


@transcripts_group.command("show")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--roles", help="Speaker roles, e.g. SPEAKER_00=therapist,SPEAKER_01=client.")
@click.option("--input-format", type=click.Choice(INPUT_FORMATS),
              help="Format of FILE (detected when omitted).")
def show_command(file: Path, roles: str | None, input_format: str | None) -> None:
    """Print the turns a transcript file parses into.

    \b
    Example:
      alliance transcripts show examples/transcripts/session.txt
    """
    from alliance.transcripts import parse_roles, read_transcript

    mapping = parse_roles(roles) if roles else None
    transcript = read_transcript(file, input_format=input_format, roles=mapping)
    click.echo(f"{file}: {transcript.format}, {len(transcript)} turns, speakers "
               + ", ".join(f"{s}={r}" for s, r in transcript.speakers.items()))
    for u in transcript:
        when = f"{u.start:8.2f}s " if u.start is not None else ""
        click.echo(f"{u.index:4d} {when}{u.speaker} ({u.role}): {u.text}")


def _register_ingestion(main: click.Group) -> None:
    """Ingestion and de-identification commands (issue 4, sections 1 and 8)."""
    main.add_command(deidentify_command)
    main.add_command(transcripts_group)


def register(main: click.Group) -> None:
    """Add this module's commands to ``main`` (one ``_register_*`` call per command set)."""
    _register_ingestion(main)
    _register_analysis(main)


# --------------------------------------------------------------------------------------
# Transcript analysis (issue 4, coding): `alliance analyze` and `alliance coding ...`.
# Kept apart from the ingestion commands above; registered by _register_analysis.
# --------------------------------------------------------------------------------------

_REPORT_SUFFIX = {"json": ".report.json", "html": ".report.html", "text": ".report.txt"}


def model_options(command):  # type: ignore[no-untyped-def]
    """``--model``, ``--no-verify-model`` and ``--encoder``: where the embedding model comes
    from and what runs it, the same on every command that loads it."""
    for option in reversed([
        click.option("--model", "model_path", type=click.Path(file_okay=False),
                     help="Another sentence-transformers model folder (default: the packaged "
                          "one)."),
        click.option("--no-verify-model", is_flag=True,
                     help="Skip the checksum of a model given with --model (on purpose only)."),
        click.option("--encoder", type=click.Choice(["onnx", "sentence-transformers"]),
                     default=None, help="What runs the model: ONNX Runtime (default, no torch) "
                     "or the sentence-transformers reference [env: ALLIANCE_ENCODER]."),
    ]):
        command = option(command)
    return command


def _register_analysis(main: click.Group) -> None:
    main.add_command(analyze)
    main.add_command(coding)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["json", "jsonl", "html", "text"]),
              default="text", show_default=True, help="Report format.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Write reports into this folder (one per file; jsonl: reports.jsonl) "
                   "instead of standard output.")
@click.option("--roles", help="Speaker roles, e.g. SPEAKER_00=therapist,SPEAKER_01=client.")
@click.option("--input-format", help="Transcript format (default: detected).")
@click.option("--rules-only", is_flag=True,
              help="Code with rules and context features only (no embedding model).")
@click.option("--deidentify", is_flag=True,
              help="Remove identifiers from the transcript before analysis.")
@click.option("--roster", "roster_path", type=click.Path(dir_okay=False),
              help="With --deidentify: a file of names to remove (one per line).")
@model_options
@click.option("--heads", "heads_dir", type=click.Path(file_okay=False),
              help="Folder of trained heads (default: the packaged heads).")
def analyze(files: tuple[str, ...], fmt: str, out_dir: str | None, roles: str | None,
            input_format: str | None, rules_only: bool, deidentify: bool,
            roster_path: str | None, model_path: str | None, no_verify_model: bool,
            encoder: str | None, heads_dir: str | None) -> None:
    """Code session transcripts for rupture markers, repair moves and threats.

    Reads each FILE (text, WebVTT, SRT, Whisper JSON, CSV or ConvoKit), codes every
    utterance, links markers to repair into episodes and writes a report per file. A bad
    file is reported and skipped; the exit status is 1 if any file failed.

    \b
    Examples:
      alliance analyze session.vtt
      alliance analyze --format html --out reports/ sessions/*.txt
      alliance analyze --rules-only --format jsonl --out reports/ a.srt b.json
      alliance analyze --deidentify --roster names.txt --format html session.txt
    """
    import sys
    from pathlib import Path

    from alliance.coding.analysis import analyze_files
    from alliance.coding.coder import load_coder
    from alliance.coding.report import render_html, render_text, to_json
    from alliance.errors import AllianceError
    from alliance.transcripts import parse_roles

    role_map = parse_roles(roles) if roles else None
    from alliance.transcripts.roster import Roster, read_roster

    roster = read_roster(roster_path) if roster_path is not None else Roster(())
    coder = load_coder(rules_only=rules_only, model_path=model_path,
                       verify_model=False if no_verify_model else None, heads_dir=heads_dir,
                       encoder=encoder)
    out = Path(out_dir) if out_dir else None
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise click.ClickException(f"cannot create {out}: {exc}") from None
    jsonl = None
    if fmt == "jsonl" and out is not None:
        jsonl = (out / "reports.jsonl").open("w", encoding="utf-8")
    failures = 0
    used: dict[str, int] = {}
    try:
        for path, report, error in analyze_files(
                files, coder, input_format=input_format, roles=role_map,
                deidentify=deidentify or roster_path is not None, roster=roster,
                progress=len(files) > 1):
            if error is not None:
                failures += 1
                click.secho(f"error: {error}", err=True, fg="red")
                continue
            assert report is not None
            if fmt == "jsonl":
                line = to_json(report, indent=None) + "\n"
                (jsonl.write(line) if jsonl else click.echo(line, nl=False))
                continue
            body = (to_json(report) + "\n" if fmt == "json" else render_html(report)
                    if fmt == "html" else render_text(report))
            if out is None:
                click.echo(body, nl=False)
            else:
                name = Path(path).name
                used[name] = used.get(name, 0) + 1
                if used[name] > 1:  # same file name from another folder: keep both reports
                    name = f"{name}-{used[name]}"
                target = out / (name + _REPORT_SUFFIX[fmt])
                try:
                    target.write_text(body, encoding="utf-8")
                except OSError as exc:
                    raise AllianceError(f"cannot write {target}: {exc}") from None
                click.echo(f"wrote {target}", err=True)
    finally:
        if jsonl is not None:
            jsonl.close()
    if failures:
        click.secho(f"{failures} of {len(files)} file(s) failed", err=True, fg="red")
        sys.exit(1)


@click.group()
def coding() -> None:
    """Train, evaluate and inspect the transcript coder.

    \b
    Examples:
      alliance coding stats
      alliance coding eval
    """


@coding.command("stats")
@click.option("--corpus", "corpus_dir", type=click.Path(file_okay=False),
              help="Corpus folder (default: data/coding of the checkout).")
def coding_stats(corpus_dir: str | None) -> None:
    """Validate the labelled corpus and count examples per code and split.

    \b
    Example:
      alliance coding stats --corpus data/coding
    """
    from alliance.coding.corpus import load_corpus
    from alliance.coding.evaluation import render_corpus_stats

    click.echo(render_corpus_stats(load_corpus(corpus_dir)), nl=False)


_CACHE_HELP = ("Keep sentence embeddings in this .npz file between runs (a local working "
               "file; never commit one made from data you may not share).")


@coding.command("train")
@click.option("--corpus", "corpus_dir", type=click.Path(file_okay=False),
              help="Corpus folder (default: data/coding of the checkout).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Where to write the heads (default: the packaged heads folder).")
@click.option("--seed", type=int, default=None, help="Random seed (default: the fixed one).")
@click.option("--embedding-cache", "cache_path", type=click.Path(dir_okay=False),
              help=_CACHE_HELP)
@model_options
def coding_train(corpus_dir: str | None, out_dir: str | None, seed: int | None,
                 cache_path: str | None, model_path: str | None, no_verify_model: bool,
                 encoder: str | None) -> None:
    """Train the classifier heads and calibrate the rules (train + dev splits, never test).

    Reproducible: fixed seed, sorted corpus, deterministic CPU encoder; the manifest
    records the corpus sha256, seed and library versions.

    \b
    Example:
      alliance coding train --out /tmp/heads
    """
    from pathlib import Path

    from alliance.coding import trainer
    from alliance.coding.corpus import load_corpus
    from alliance.coding.embedder import EmbeddingCache, load_embedder
    from alliance.coding.heads import packaged_heads_dir

    corpus = load_corpus(corpus_dir)
    embedder = load_embedder(model_path, False if no_verify_model else None, encoder=encoder)
    cache = EmbeddingCache(embedder, cache_path)
    result = trainer.train(corpus, embedder, encode=cache.encode,
                           seed=trainer.DEFAULT_SEED if seed is None else seed)
    cache.save()
    target = Path(out_dir) if out_dir else packaged_heads_dir()
    trainer.save(result, target)
    n = corpus.labelled_count("train") + corpus.labelled_count("dev")
    click.echo(f"trained {len(result.heads.codes)} heads on {n} train+dev turns; C, Platt "
               f"scaling and thresholds by grouped 5-fold CV (out-of-fold ECE "
               f"{result.cv_ece:.3f}, macro-F1 {result.heads.manifest['cv_macro_f1']})")
    if result.skipped:
        click.echo("no head (rules only: by design or too few examples): "
                   + ", ".join(result.skipped))
    click.echo(f"wrote {target}")


@coding.command("eval")
@click.option("--corpus", "corpus_dir", type=click.Path(file_okay=False),
              help="Corpus folder (default: data/coding of the checkout).")
@click.option("--split", type=click.Choice(["train", "dev", "test"]), default="test",
              show_default=True, help="Which split to score (report test).")
@click.option("--coder", "which", type=click.Choice(["both", "rules", "hybrid"]),
              default="both", show_default=True, help="Which coder(s) to evaluate.")
@click.option("--heads", "heads_dir", type=click.Path(file_okay=False),
              help="Folder of trained heads (default: the packaged heads).")
@model_options
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--external", "external", type=click.Path(dir_okay=False),
              help="Score a labelled set you hold instead of the corpus (see --format).")
@click.option("--format", "ext_format", type=click.Choice(["esconv", "csv"]), default="csv",
              show_default=True, help="With --external: ESConv JSON or speaker,text,label CSV.")
@click.option("--label-map", "label_map",
              help="With --external: label=code pairs separated by commas, or a YAML/JSON "
                   "file of label -> code (ESConv has a default map).")
@click.option("--embedding-cache", "cache_path", type=click.Path(dir_okay=False),
              help=_CACHE_HELP)
def coding_eval(corpus_dir: str | None, split: str, which: str, heads_dir: str | None,
                model_path: str | None, no_verify_model: bool, encoder: str | None,
                as_json: bool, external: str | None, ext_format: str, label_map: str | None,
                cache_path: str | None) -> None:
    """Per-code precision/recall/F1, macro-F1 per family and a confusion table.

    Scores the rules-only and the hybrid coder on the held-out test split (by default),
    plus how well the episode logic reproduces the annotated episodes. With --external,
    scores the coder on your own labelled file instead: per-code AUROC, precision and
    recall at the decision threshold, length correlation among non-targets and a
    calibration table.

    \b
    Examples:
      alliance coding eval
      alliance coding eval --coder rules --json
      alliance coding eval --external chats.json --format esconv
      alliance coding eval --external turns.csv --label-map "RES=bond.reflection,GI=none"
    """
    import json

    from alliance.coding.coder import load_coder
    from alliance.coding.corpus import load_corpus
    from alliance.coding.evaluation import episode_agreement, evaluate, render_evaluation

    if external is not None:
        from alliance.coding import external as ext
        from alliance.coding.embedder import EmbeddingCache

        lmap = ext.parse_label_map(label_map, ext_format)
        data = ext.read_external(external, ext_format)
        coder = load_coder(rules_only=which == "rules", model_path=model_path,
                           verify_model=False if no_verify_model else None,
                           heads_dir=heads_dir, encoder=encoder)
        cache = (EmbeddingCache(coder.embedder, cache_path)
                 if coder.embedder is not None else None)
        turns = ext.score_external(data, coder, lmap, cache.encode if cache else None)
        if cache is not None:
            cache.save()
        report = ext.check(turns, coder, lmap, source=external)
        if not report.codes:
            raise click.ClickException("no label maps to a code: give --label-map")
        click.echo(json.dumps(report.to_dict(), indent=2) if as_json
                   else ext.render_external(report), nl=False)
        return
    corpus = load_corpus(corpus_dir)
    results = []
    modes = ["rules", "hybrid"] if which == "both" else [which]
    for mode in modes:
        coder = load_coder(rules_only=mode == "rules", model_path=model_path,
                           verify_model=False if no_verify_model else None,
                           heads_dir=heads_dir, encoder=encoder)
        results.append((evaluate(corpus, coder, split), episode_agreement(corpus, coder,
                                                                            split)))
    if as_json:
        click.echo(json.dumps([{**ev.to_dict(), "episodes": ep} for ev, ep in results],
                              indent=2))
    else:
        for ev, ep in results:
            click.echo(render_evaluation(ev, ep), nl=False)
