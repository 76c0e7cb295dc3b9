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
