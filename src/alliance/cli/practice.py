"""``alliance practice …``: rupture-repair practice cases, exam mode and response scoring."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import IO, Any

import click

from alliance.errors import TrainingError

CODER_HELP = ("Transcript coder for the response: auto (default: hybrid when the model "
              "loads, else rules), rules (no model, phrase rules decide the verdict) or "
              "hybrid (embedding model; the verdict head decides the verdict).")


def _book(cases_dir: str | None) -> Any:
    from alliance.training import load_casebook

    return load_casebook(cases_dir)


def _read_line(stream: IO[str], prompt: str) -> str:
    click.echo(prompt, nl=False)
    line = stream.readline()
    if not line:
        click.echo()
        raise TrainingError("input ended before the case was finished")
    return line.rstrip("\n")


@click.group("practice")
def practice_group() -> None:
    """Practise noticing and repairing alliance ruptures.

    \b
    Examples:
      alliance practice list
      alliance practice run quiet-homework
      alliance practice run quiet-homework --exam
      alliance practice score "I may have pushed too hard. How has it been for you?" \\
          --client "Didn't get to it." --format json
    """


@practice_group.command("list")
@click.option("--cases-dir", type=click.Path(file_okay=False), default=None,
              help="Read cases from this folder instead of the bundled library.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def list_cmd(cases_dir: str | None, fmt: str) -> None:
    """List the practice cases.

    \b
    Example:
      alliance practice list --format json
    """
    book = _book(cases_dir)
    rows = [{"id": c.id, "title": c.title, "setting": c.setting,
             "situations": list(c.situations), "stages": len(c.stages),
             "items": len(c.items)} for c in book.values()]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        click.echo(f"{r['id']:<{width}}  {r['setting']:<10}  {r['title']}")


@practice_group.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path())
def validate_cmd(files: tuple[str, ...]) -> None:
    """Check case files against the case schema and the codebook.

    \b
    Example:
      alliance practice validate my-case.yaml
    """
    from alliance.training import load_case_file

    for f in files:
        case = load_case_file(f)
        click.echo(f"{f}: ok ({case.id}, {len(case.stages)} stages, {len(case.items)} items)")


def _says(case: Any, line: str) -> str:
    """``Name: "line"``; a line that already names its speaker (couple, family, group) as is."""
    if re.match(r"^[A-Z][\w .'-]{0,30}: ", line):
        return line
    return f'{case.client_name}: "{line}"'


def _show_stage(case: Any, stage: Any) -> None:
    click.echo(f"\n== Stage {stage.number}/{len(case.stages)}: {stage.title}")
    click.echo(stage.narrative)
    for cue in stage.cues:
        click.echo(f"  [{cue.kind}] {cue.cue}")


def _feedback(score: Any) -> None:
    click.echo(f"  verdict: {score.verdict}  (score {score.score:.2f})")
    for g in score.good:
        click.echo(f"  + {g}")
    for t in score.to_improve[:3]:
        click.echo(f"  - {t}")
    click.echo(f"  a better response here: {score.alternative}")


def _run_practice(case: Any, coder: Any, stream: IO[str]) -> Any:
    from alliance.training import PracticeSession

    session = PracticeSession(case, coder)
    while not session.finished:
        stage = session.stage
        _show_stage(case, stage)
        click.echo(_says(case, stage.client))
        while True:
            text = _read_line(stream, "you> ")
            try:
                turn = session.respond(text)
                break
            except TrainingError as exc:
                click.secho(f"  {exc}; please answer again", fg="yellow")
        _feedback(turn.score)
        click.echo(f"  client state: {turn.state_after.describe()}")
        click.echo(_says(case, turn.reply))
    return session.record()


def _run_exam(case: Any, stream: IO[str]) -> Any:
    from alliance.training import ExamSession

    exam = ExamSession(case)
    while not exam.finished:
        stage = exam.section
        _show_stage(case, stage)
        click.echo(_says(case, stage.client))
        for item in list(exam.open_items):
            click.echo(f"\n{item.stem}")
            for o in item.options:
                click.echo(f"  {o.key}. {o.text}")
            while True:
                choice = _read_line(stream, "answer (A-D)> ")
                try:
                    exam.answer(item.id, choice)
                    break
                except TrainingError as exc:
                    click.secho(f"  {exc}", fg="yellow")
        click.echo(f"(section {stage.number} locked)")
    click.echo("\n== Results")
    for comp, c in exam.competencies().items():
        click.echo(f"  {comp:<13} {c['correct']}/{c['total']}")
    for r in exam.results():
        mark = "correct" if r.correct else f"you chose {r.chosen}, keyed {r.item.key}"
        click.echo(f"\nStage {r.stage}, {r.item.id} [{r.item.competency}]: {mark}")
        click.echo(f"  {r.item.stem}")
        for o in r.item.options:
            flag = "*" if o.key == r.item.key else " "
            click.echo(f" {flag}{o.key}. {o.text}\n      {o.rationale}")
    return exam.record()


@practice_group.command("run")
@click.argument("case_id")
@click.option("--exam", is_flag=True, help="Exam mode: four-option items, sections lock.")
@click.option("--cases-dir", type=click.Path(file_okay=False), default=None,
              help="Read cases from this folder instead of the bundled library.")
@click.option("--coder", "coder_kind", type=click.Choice(["rules", "hybrid", "auto"]),
              default="auto", show_default=True, help=CODER_HELP)
@click.option("--record", "record_path", type=click.Path(dir_okay=False), default=None,
              help="Write the session record (JSON, with the state after each turn) here.")
def run_cmd(case_id: str, exam: bool, cases_dir: str | None, coder_kind: str,
            record_path: str | None) -> None:
    """Play a case in the terminal (answers are read line by line from standard input).

    Practice mode: write what you would say; each response is scored, the simulated
    client's rupture state moves and the client answers. At the end the client rates the
    session on alliance-12 and a replay shows the state after each turn.

    \b
    Examples:
      alliance practice run quiet-homework
      alliance practice run quiet-homework --exam
      printf 'B\\nC\\nA\\nC\\n' | alliance practice run quiet-homework --exam
    """
    case = _book(cases_dir)[case_id]
    click.echo(f"{case.title}\n{case.summary}\nClient: {case.client_name}, "
               f"{case.client_description}")
    stream = sys.stdin
    if exam:
        record = _run_exam(case, stream)
    else:
        from alliance.training.coders import practice_coder

        record = _run_practice(case, practice_coder(coder_kind), stream)
        from alliance.training import render_replay

        click.echo("\n" + render_replay(record))
    if record_path:
        Path(record_path).write_text(record.to_json() + "\n", encoding="utf-8")
        click.echo(f"record written to {record_path}")


@practice_group.command("replay")
@click.argument("record_file", type=click.Path(dir_okay=False))
def replay_cmd(record_file: str) -> None:
    """Replay a saved session record (written by ``run --record``).

    \b
    Example:
      alliance practice replay session.json
    """
    from alliance.training import PracticeRecord, render_replay

    try:
        data = json.loads(Path(record_file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TrainingError(f"{record_file}: cannot read a practice record "
                            f"({exc.__class__.__name__})") from None
    click.echo(render_replay(PracticeRecord.from_dict(data)))


@practice_group.command("score")
@click.argument("response")
@click.option("--client", "client_line", default=None,
              help="The client line the response answers.")
@click.option("--case", "case_id", default=None,
              help="Score for this case (its stage's client line unless --client is given).")
@click.option("--stage", type=int, default=None,
              help="The stage of --case (1-based; default 1).")
@click.option("--cases-dir", type=click.Path(file_okay=False), default=None,
              help="Read cases from this folder instead of the bundled library.")
@click.option("--coder", "coder_kind", type=click.Choice(["rules", "hybrid", "auto"]),
              default="auto", show_default=True, help=CODER_HELP)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def score_cmd(response: str, client_line: str | None, case_id: str | None,
              stage: int | None, cases_dir: str | None, coder_kind: str, fmt: str) -> None:
    """Score one trainee response against the repair sequence ("-" reads it from stdin).

    \b
    Example:
      alliance practice score "I think I pushed the homework too hard. What has it been
        like for you?" --client "Didn't get to it." --format json
    """
    from alliance.training import score_trainee_response
    from alliance.training.coders import practice_coder

    if response == "-":
        response = sys.stdin.read()
    case = _book(cases_dir)[case_id] if case_id else None
    if stage is not None and case is None:
        raise TrainingError("--stage needs --case")
    result = score_trainee_response(response, client_line, case=case, stage=stage,
                                    coder=practice_coder(coder_kind))
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    click.echo("steps: " + ", ".join(f"{k} {'yes' if v else 'no'}"
                                     for k, v in result.steps.items()))
    click.echo(f"technique before repair: {'yes' if result.technique_before_repair else 'no'}")
    click.echo(f"codes: {', '.join(result.codes) or '(none)'}")
    _feedback(result)


@practice_group.command("agreement")
@click.argument("first", type=click.Path(dir_okay=False))
@click.argument("second", type=click.Path(dir_okay=False))
def agreement_cmd(first: str, second: str) -> None:
    """Cohen's kappa between two labelling passes (verdict and each step), as JSON.

    \b
    Example:
      alliance practice agreement data/training/labels-pass1.yaml \\
          data/training/labels-pass2.yaml
    """
    from alliance.training.validation import agreement, load_labels

    click.echo(json.dumps(agreement(load_labels(first), load_labels(second)), indent=2))


@practice_group.command("evaluate")
@click.option("--responses", default="data/training/responses.yaml", show_default=True,
              type=click.Path(dir_okay=False))
@click.option("--labels", default="data/training/labels-pass1.yaml", show_default=True,
              type=click.Path(dir_okay=False))
@click.option("--split", type=click.Choice(["heldout", "dev", "all"]), default="heldout",
              show_default=True)
@click.option("--coder", "coder_kind", type=click.Choice(["rules", "hybrid", "auto"]),
              default="auto", show_default=True, help=CODER_HELP)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def evaluate_cmd(responses: str, labels: str, split: str, coder_kind: str, fmt: str) -> None:
    """The scorer's verdict accuracy, confusion table and per-step F1 against labels.

    \b
    Example:
      alliance practice evaluate --split heldout
    """
    from alliance.training import score_trainee_response
    from alliance.training.coders import practice_coder
    from alliance.training.validation import (
        evaluate,
        load_labels,
        load_responses,
        render_confusion,
    )

    coder = practice_coder(coder_kind)
    ev = evaluate(load_responses(responses), load_labels(labels), split,
                  scorer=lambda r: score_trainee_response(r.response, r.client, coder=coder))
    if fmt == "json":
        click.echo(json.dumps(ev, indent=2))
        return
    click.echo(f"split {ev['split']}: n = {ev['n']}, verdict accuracy = {ev['accuracy']:.3f}")
    click.echo(render_confusion(ev["confusion"]))
    click.echo("\n| step | precision | recall | F1 | support |\n|---|---|---|---|---|")
    for s, v in ev["steps"].items():
        click.echo(f"| {s} | {v['precision']} | {v['recall']} | {v['f1']} | {v['support']} |")


@practice_group.command("train-head")
@click.option("--data-dir", default="data/training", show_default=True,
              type=click.Path(file_okay=False))
@click.option("--output", default=None, type=click.Path(dir_okay=False),
              help="Where to write the head (default: the packaged verdict-head.npz).")
def train_head_cmd(data_dir: str, output: str | None) -> None:
    """Train the verdict and step heads on the development responses (model extra).

    Uses responses.yaml and the fresh sets that served as development data (never the
    newest fresh set, the clean test of the frozen version).

    \b
    Example:
      alliance practice train-head --data-dir data/training
    """
    from alliance.coding.coder import load_coder
    from alliance.training.head import (
        FEATURES,
        coder_codes,
        head_features,
        packaged_head_path,
        train_verdict_head,
    )
    from alliance.training.steps import STEP_NAMES

    rows = _development_rows(Path(data_dir))
    coder = load_coder()  # the hybrid coder: its scores are features since v13
    embedder = coder.embedder
    if embedder is None or coder.heads is None:
        raise click.ClickException("training the verdict head needs the embedding model and "
                                   "the coder's heads (extra 'model')")
    codes = coder_codes(coder)
    x = head_features(embedder, [r.response for r, _ in rows],
                      clients=[r.client for r, _ in rows], coder=coder, codes=codes)
    head = train_verdict_head(x, [lab.verdict for _, lab in rows], {
        "model": embedder.name, "features": FEATURES, "scorer": "v15",
        "coder_codes": list(codes), "coder_heads": coder.heads.version,
        **_training_manifest()},
        steps={s: [s in lab.steps for _, lab in rows] for s in STEP_NAMES})
    target = Path(output) if output else packaged_head_path()
    head.save(target)
    click.echo(f"verdict and step heads trained on {len(rows)} responses "
               f"({', '.join(head.classes)}) -> {target}")
    click.echo("step thresholds: " + ", ".join(f"{s} {head.threshold(s):.2f}"
                                                for s in head.steps))


@practice_group.command("train-reader")
@click.option("--data-dir", default="data/training", show_default=True,
              type=click.Path(file_okay=False))
@click.option("--output", default=None, type=click.Path(dir_okay=False),
              help="Where to write the adapter (default: the packaged reader-adapter.npz).")
@click.option("--blend", type=click.FloatRange(0, 1), default=None,
              help="Weight of the reader against the heads (default: the shipped choice).")
@click.option("--epochs", type=click.IntRange(1, 50), default=None,
              help="Passes over the responses (default: the shipped choice, 12).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the initialisation, the order and the left-out client lines.")
def train_reader_cmd(data_dir: str, output: str | None, blend: float | None,
                     epochs: int | None, seed: int) -> None:
    """Fine-tune the reader on the development responses (extras 'model' and 'torch').

    The reader is the embedding model adapted (a low-rank update) to read each response
    together with the client line it answers; the scorer blends it with the heads. Trains
    on the same responses as train-head; about 16 minutes on two CPU cores.

    \b
    Example:
      alliance practice train-reader --data-dir data/training
    """
    from dataclasses import replace

    from alliance.training.reader import READER_BLEND, SCORER, packaged_adapter_path
    from alliance.training.reader_fit import ReaderExample, ReaderSettings, fit_reader
    from alliance.training.steps import STEP_NAMES
    from alliance.training.verdicts import VERDICTS

    rows = _development_rows(Path(data_dir))
    settings = ReaderSettings(seed=seed)
    if epochs is not None:
        settings = replace(settings, epochs=epochs)
    examples = [ReaderExample(r.client, r.response, lab.verdict, frozenset(lab.steps))
                for r, lab in rows]
    adapter = fit_reader(examples, VERDICTS, STEP_NAMES, settings, {
        "scorer": SCORER, "blend": READER_BLEND if blend is None else blend,
        **_training_manifest()}, progress=click.echo)
    target = Path(output) if output else packaged_adapter_path()
    adapter.save(target)
    click.echo(f"reader trained on {len(rows)} responses (blend {adapter.blend:.2f}) -> "
               f"{target} ({target.stat().st_size / 1e6:.2f} MB)")


def _training_manifest() -> dict[str, Any]:
    """What the heads' and the reader's manifests say of their training data."""
    from alliance.training.head import MAIN_SPLITS, TRAIN_SETS

    return {"train_sets": [f"responses.yaml ({', '.join(MAIN_SPLITS)})",
                           *[f"responses-{n}.yaml" for n in TRAIN_SETS]],
            "labels": "pass 1 (labelling guide v2)"}


def _development_rows(base: Path) -> list[Any]:
    """The labelled responses the heads and the reader are trained on (pass 1)."""
    from alliance.training.head import MAIN_SPLITS, TRAIN_SETS
    from alliance.training.validation import split_of

    rows = [(r, lab) for r, lab in _pairs(base / "responses.yaml", base / "labels-pass1.yaml")
            if split_of(r.id) in MAIN_SPLITS]
    for name in TRAIN_SETS:
        rows += _pairs(base / f"responses-{name}.yaml", base / f"labels-{name}-pass1.yaml")
    return rows


def _pairs(responses: Path, labels: Path) -> list[Any]:
    from alliance.training.validation import load_labels, load_responses

    labs = load_labels(labels)
    return [(r, labs[r.id]) for r in load_responses(responses) if r.id in labs]


def register(main: click.Group) -> None:
    main.add_command(practice_group)
