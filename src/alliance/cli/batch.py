"""``alliance batch score|monitor|analyze``: the batch pipelines of :mod:`alliance.batch`."""

from __future__ import annotations

from typing import Any, ClassVar

import click


def _common(command: Any) -> Any:
    """Options every batch command shares: output, engine, chunking, resuming."""
    for option in reversed([
        click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
                     help="Output Parquet file (written whole at the end)."),
        click.option("--engine", type=click.Choice(["local", "ray", "dask"]), default="local",
                     show_default=True, help="Where chunks are processed: this process, "
                     "Ray Data or Dask (extras alliance[ray], alliance[dask])."),
        click.option("--address", help="Join this Ray or Dask cluster (e.g. ray://head:10001, "
                     "tcp://scheduler:8786) instead of starting a local one."),
        click.option("--workers", type=click.IntRange(1, 4096), default=None,
                     help="Workers of a local Ray or Dask cluster [default: 2]."),
        click.option("--chunk-rows", type=click.IntRange(1), default=None,
                     help="Rows per chunk (files per chunk for a folder) [default: per "
                          "command]."),
        click.option("--restart", is_flag=True,
                     help="Discard the parts of an unfinished run instead of resuming it."),
        click.option("--overwrite", is_flag=True, help="Replace OUT if it exists."),
        click.option("--quiet", is_flag=True, help="No progress bar."),
    ]):
        command = option(command)
    return command


class _Bar:
    """A rich progress bar on standard error, one line per phase."""

    LABELS: ClassVar[dict[str, str]] = {"read": "reading", "process": "processing chunks",
                                        "write": "writing output"}

    def __init__(self, quiet: bool) -> None:
        self.progress = None
        self.tasks: dict[str, Any] = {}
        if not quiet:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                     TaskProgressColumn(), TimeElapsedColumn(),
                                     TimeRemainingColumn(), console=Console(stderr=True),
                                     transient=False)

    def __enter__(self) -> _Bar:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.progress is None:
            return
        if phase not in self.tasks:
            self.tasks[phase] = self.progress.add_task(self.LABELS.get(phase, phase),
                                                       total=max(total, 1))
        self.progress.update(self.tasks[phase], completed=done, total=max(total, 1))


def _run(command: str, options: dict[str, Any], input_path: str, out: str, engine: str,
         address: str | None, workers: int | None, chunk_rows: int | None, restart: bool,
         overwrite: bool, quiet: bool) -> None:
    from alliance.batch import StepSpec, run_batch

    try:
        with _Bar(quiet) as bar:
            summary = run_batch(StepSpec(command, options), input_path, out, engine=engine,
                                address=address, workers=workers, chunk_rows=chunk_rows,
                                restart=restart, overwrite=overwrite, progress=bar)
    except KeyboardInterrupt:
        click.echo(f"interrupted: finished chunks are kept in {out}.parts; run the same "
                   "command again to resume", err=True)
        raise click.exceptions.Exit(130) from None
    resumed = f", {summary.skipped} done before (resumed)" if summary.skipped else ""
    click.echo(f"wrote {summary.out}: {summary.rows_out:,} rows from {summary.rows_in:,} input "
               f"rows in {summary.chunks} chunk(s){resumed}; {summary.engine} engine, "
               f"{summary.seconds:.1f} s", err=True)


@click.group("batch")
def batch_group() -> None:
    """Score, monitor or analyze large inputs in resumable chunks, locally or on a cluster.

    INPUT is a CSV, Parquet or JSON Lines file (analyze also takes a folder of transcripts).
    It is streamed in chunks, so memory stays bounded; each finished chunk is recorded in
    OUT.parts/, so running the same command again after an interruption resumes it. OUT
    appears only when complete. Schemas: docs/scale.md.

    \b
    Examples:
      alliance batch score responses.parquet --instrument alliance-12 --out scores.parquet
      alliance batch analyze sessions/ --rules-only --out codes.parquet
      alliance batch analyze turns.parquet --engine ray --address ray://head:10001 --out c.parquet
    """


@batch_group.command("score")
@click.argument("input_path", metavar="INPUT", type=click.Path())
@click.option("--instrument", "instrument_id", required=True, help="Instrument id.")
@_common
def score_cmd(input_path: str, instrument_id: str, **common: Any) -> None:
    """Score every response row (item columns named by item id; other columns carried).

    \b
    Examples:
      alliance batch score responses.csv --instrument alliance-12 --out scores.parquet
      alliance batch score big.parquet --instrument alliance-12 --engine dask --out s.parquet
    """
    _run("score", {"instrument": instrument_id}, input_path, **common)


@batch_group.command("monitor")
@click.argument("input_path", metavar="INPUT", type=click.Path())
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False),
              help="Monitoring policy YAML (default: the shipped policy).")
@_common
def monitor_cmd(input_path: str, policy_file: str | None, **common: Any) -> None:
    """Monitor cases given as rating rows (one row per questionnaire; rows of a case together).

    \b
    Example:
      alliance batch monitor ratings.parquet --out monitoring.parquet
    """
    _run("monitor", {"policy": policy_file}, input_path, **common)


@batch_group.command("analyze")
@click.argument("input_path", metavar="INPUT", type=click.Path())
@click.option("--rules-only", is_flag=True,
              help="Code with rules and context features only (no embedding model).")
@click.option("--roles", help="Speaker roles, e.g. SPEAKER_00=therapist,SPEAKER_01=client.")
@click.option("--input-format", help="Format of the files in a folder (default: detected).")
@click.option("--model", "model_path", type=click.Path(file_okay=False),
              help="Another sentence-transformers model folder (default: the packaged one).")
@click.option("--heads", "heads_dir", type=click.Path(file_okay=False),
              help="Folder of trained heads (default: the packaged heads).")
@click.option("--encoder", type=click.Choice(["onnx", "sentence-transformers"]), default=None,
              help="What runs the model (default: ONNX Runtime).")
@_common
def analyze_cmd(input_path: str, rules_only: bool, roles: str | None,
                input_format: str | None, model_path: str | None, heads_dir: str | None,
                encoder: str | None, **common: Any) -> None:
    """Code transcripts: a table of turns (session, speaker, text[, role, start, end]) or a
    folder of transcript files; one output row per turn.

    \b
    Examples:
      alliance batch analyze turns.parquet --out codes.parquet
      alliance batch analyze transcripts/ --rules-only --engine dask --workers 4 --out c.parquet
    """
    from alliance.transcripts import parse_roles

    options = {"rules_only": rules_only, "model_path": model_path, "heads_dir": heads_dir,
               "encoder": encoder, "input_format": input_format,
               "roles": dict(parse_roles(roles)) if roles else None}
    _run("analyze", options, input_path, **common)


def register(main: click.Group) -> None:
    main.add_command(batch_group)
