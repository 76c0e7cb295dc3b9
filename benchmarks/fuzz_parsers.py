"""Fuzz every reader of outside input; the only exceptions allowed are AllianceError subclasses.

Readers (one fuzz target each, see TARGETS): transcripts in every format (detected and named),
de-identification of transcript files, roster files and --roles values; instrument specs and
wording files; monitoring case files (then monitored) and policy files (then applied);
response tables in CSV, TSV, JSON, Excel and Parquet (then scored and, for some, put through
reliability). Each input is a mutation of a real example file or random bytes: structure-aware
mutations (JSON/YAML trees and CSV cells changed to extreme values: huge numbers, NaN,
infinities, wrong types, deep nesting) and byte-level ones (BOMs, CRLF, NUL bytes, invalid
UTF-8, truncation, odd unicode, splices of other formats).

Engines: atheris (coverage-guided libFuzzer, the alliance package instrumented, with the
mutations above as its custom mutator) where it is installed, else hypothesis. Both run in
process: one Python process per target, not one per input.

Usage::

    python benchmarks/fuzz_parsers.py --quick            # seconds; tests/fuzz runs it
    nice python benchmarks/fuzz_parsers.py               # the figure in docs/reliability.md
    python benchmarks/fuzz_parsers.py --target transcript-vtt --runs 20000
    python benchmarks/fuzz_parsers.py --engine hypothesis --quick

It prints executions per target, crashes (any exception that is not an AllianceError, a
hang past --timeout, or a killed process), time, and exits 1 when there is a crash. Each
crashing input is saved under --crash-dir with its traceback.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import csv
import hashlib
import io
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

# ----------------------------------------------------------------------------- mutations

# Values that break readers: numbers past int64 and float range, NaN spellings, odd digits.
NUMBERS = ["9" * 400, "9" * 5000, "-" + "9" * 30, "9223372036854775808",
           "-9223372036854775809", "2147483648", "1e309", "-1e309", "1e-400", "NaN", "nan",
           "-nan", "Infinity", "-Infinity", "inf", ".inf", "-.inf", ".nan", "-0", "0", "-1",
           "0x1F", "1_000", "1e5", "4.5", "\u0663", "\uff11\uff12", "1,5", "", " ", "null",
           "true", "~", "2024-13-45", "2024-02-30 25:00:00"]
# Things worth inserting anywhere (format syntax of every reader, BOMs, controls, unicode).
TOKENS = [b"WEBVTT\n", b"-->", b" --> ", b"00:00:01.000", b"99:99:99,999", b"\n\n", b"1\n",
          b"<v ", b">", b"</v>", b"T: ", b"C: ", b"Therapist: ", b"[SPEAKER_00]: ", b":",
          b'"segments"', b'"speaker"', b'"text"', b'"start"', b'"conversation_id"', b"{",
          b"}", b"[", b"]", b",", b"\t", b'"', b"'", b"null", b"true", b"---\n", b"...\n",
          b"&a ", b"*a", b"<<: ", b"!!binary ", b"!!python/object:os.system ", b"? ",
          b"- ", b"%YAML 1.1\n", b"~", b"#", b"\\", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff",
          b"\r\n", b"\r", b"\x00", b"\x85", b"\xe2\x80\xa8", b"\xe2\x80\xae", b"\xcc\x81" * 50,
          b"\xf0\x9f\x98\x80", b"\xed\xa0\x80", b"\xc0\xaf", b"\xff", b"\xc3", b"\x0b\x0c",
          b"2024-13-45", b"9" * 5000, b"1e309", b"NaN", b".nan", b"=", b"therapist",
          b"client", b"id", b"items", b"scale", b"cases", b"sessions"]
_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _interesting(rng: random.Random) -> Any:
    """A JSON/YAML value that a reader may not expect."""
    choices: list[Any] = [None, True, False, "", " ", "x" * rng.choice([1, 300, 5000]), -1, 0,
                          1, 2**63, -(2**63) - 1, 2**200, 1e308, -1e308, float("nan"),
                          float("inf"), float("-inf"), 1.5, [], {}, [None], {"": None},
                          "NaN", "1e999", "2024-13-45", "2024-02-30T25:61:00", "T", "client",
                          "\x00", "\ud800", "\u202e", rng.choice(NUMBERS)]
    return rng.choice(choices)


def _mutate_tree(node: Any, rng: random.Random, depth: int = 0) -> Any:
    """Change one random place of a decoded JSON/YAML tree."""
    if isinstance(node, dict) and node and depth < 12 and rng.random() < 0.8:
        key = rng.choice(list(node))
        action = rng.random()
        if action < 0.15:
            del node[key]
        elif action < 0.25:
            node[rng.choice(["", "x", "extra", 1, None, key + "_"]) if isinstance(key, str)
                 else "k"] = _interesting(rng)
        elif action < 0.3:
            node[key] = [node[key]] * rng.choice([2, 50])
        else:
            node[key] = _mutate_tree(node[key], rng, depth + 1)
        return node
    if isinstance(node, list) and node and depth < 12 and rng.random() < 0.8:
        i = rng.randrange(len(node))
        action = rng.random()
        if action < 0.1:
            del node[i]
        elif action < 0.2:
            node.insert(i, node[i])
        elif action < 0.25:
            node.extend([node[i]] * rng.choice([10, 200]))
        elif action < 0.3:
            node.reverse()
        else:
            node[i] = _mutate_tree(node[i], rng, depth + 1)
        return node
    return _interesting(rng)


def _tree_mutation(data: bytes, rng: random.Random) -> bytes | None:
    text = data.decode("utf-8", "replace")
    stripped = text.lstrip("\ufeff \n")
    if stripped.startswith(("{", "[")):
        lines = text.splitlines()
        try:
            tree = json.loads(text)
        except ValueError:
            if len(lines) < 2:
                return None
            # JSON lines (ConvoKit): mutate one line.
            i = rng.randrange(len(lines))
            try:
                line = json.loads(lines[i])
            except ValueError:
                return None
            lines[i] = json.dumps(_mutate_tree(line, rng))
            return "\n".join(lines).encode("utf-8", "surrogatepass")
        return json.dumps(_mutate_tree(tree, rng)).encode("utf-8", "surrogatepass")
    import yaml

    try:
        tree = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(tree, dict | list):
        return None
    try:
        out = yaml.safe_dump(_mutate_tree(tree, rng), allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, ValueError, TypeError):
        return None
    return out.encode("utf-8", "surrogatepass")


def _csv_mutation(data: bytes, rng: random.Random) -> bytes | None:
    text = data.decode("utf-8", "replace")
    delimiter = "\t" if text.count("\t") > text.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if len(rows) < 2 or len(rows[0]) < 2:
        return None
    action = rng.random()
    r = rng.randrange(len(rows))
    if action < 0.6 and rows[r]:
        c = rng.randrange(len(rows[r]))
        rows[r][c] = str(_interesting(rng))
    elif action < 0.7:
        rows[0].append(rng.choice(rows[0]))  # duplicate header
    elif action < 0.8:
        c = rng.randrange(len(rows[0]))
        for row in rows:
            if c < len(row):
                del row[c]
    elif action < 0.9:
        rows[r] = rows[r][: rng.randrange(len(rows[r]) + 1)]  # ragged row
    else:
        rows = rows[:1]  # header only
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8", "surrogatepass")


def _spot(data: bytes, rng: random.Random) -> int:
    return rng.randrange(len(data) + 1)


def mutate(data: bytes, rng: random.Random, corpus: list[bytes], max_size: int = 1 << 20
           ) -> bytes:
    """One to three structure-aware or byte-level mutations of ``data``."""
    for _ in range(rng.choice([1, 1, 2, 3])):
        try:
            data = _mutate_once(data, rng, corpus)
        except Exception:  # a mutation that does not apply leaves the input as it was
            continue
    return data[:max_size]


def _mutate_once(data: bytes, rng: random.Random, corpus: list[bytes]) -> bytes:
    action = rng.randrange(17)
    new: bytes | None = None
    if action in (0, 1, 2):
        new = _tree_mutation(data, rng) or _csv_mutation(data, rng)
    elif action == 3:
        new = _csv_mutation(data, rng)
    elif action == 4:  # a number becomes an extreme one
        found = list(_NUMBER.finditer(data))
        if found:
            m = rng.choice(found)
            new = data[:m.start()] + rng.choice(NUMBERS).encode() + data[m.end():]
    elif action == 5:
        i = _spot(data, rng)
        new = data[:i] + rng.choice(TOKENS) + data[i:]
    elif action == 6:  # truncated file
        new = data[:_spot(data, rng)]
    elif action == 7:
        new = data.replace(b"\n", rng.choice([b"\r\n", b"\r", b"\n\n", b"\x85"]))
    elif action == 8:
        new = rng.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b""]) + data
    elif action == 9:  # deep nesting
        k = rng.choice([50, 1000, 3000])
        opener, closer = rng.choice([(b"[", b"]"), (b'{"a":', b"}"), (b"- ", b""),
                                     (b"<v ", b">"), (b"{", b"")])
        i = _spot(data, rng)
        new = data[:i] + opener * k + closer * k + data[i:]
    elif action == 10:  # random bytes
        i = _spot(data, rng)
        new = data[:i] + rng.randbytes(rng.randrange(1, 32)) + data[i + rng.randrange(8):]
    elif action == 11 and data:  # flip bytes
        b = bytearray(data)
        for _ in range(rng.randrange(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        new = bytes(b)
    elif action == 12 and corpus:  # splice another file (another format, often)
        other = rng.choice(corpus)
        new = data[:_spot(data, rng)] + other[_spot(other, rng):]
    elif action == 13:  # a line repeated or lines shuffled
        lines = data.split(b"\n")
        i = rng.randrange(len(lines))
        if rng.random() < 0.5:
            lines[i:i] = [lines[i]] * rng.choice([2, 50, 500])
        else:
            rng.shuffle(lines)
        new = b"\n".join(lines)
    elif action == 14:  # a range deleted
        i = _spot(data, rng)
        new = data[:i] + data[i + rng.randrange(1, 64):]
    elif action == 15:  # text re-encoded
        codec = rng.choice(["utf-16", "utf-16-le", "latin-1", "utf-32", "cp1252"])
        with contextlib.suppress(UnicodeError):
            new = data.decode("utf-8").encode(codec)
    else:
        new = rng.choice(corpus) if corpus else data
    return data if new is None else new


# ----------------------------------------------------------------------------- targets


@dataclass
class Target:
    """One reader: ``call`` takes the raw file bytes; ``runs`` is its share of the figure."""

    name: str
    reader: str
    call: Callable[[bytes], object]
    seeds: Callable[[], list[bytes]]
    runs: int
    dispatch: bool = False  # the first byte picks a reader (the quick mode's single process)


_TMP = Path(tempfile.mkdtemp(prefix="alliance-fuzz-", dir="/dev/shm"
                             if os.path.isdir("/dev/shm") else None))
atexit.register(shutil.rmtree, _TMP, True)


def _file(data: bytes, suffix: str) -> Path:
    path = _TMP / f"input{suffix}"
    path.write_bytes(data)
    return path


def _files(folder: Path, pattern: str) -> list[bytes]:
    return [p.read_bytes() for p in sorted(folder.glob(pattern)) if p.is_file()]


def _transcript_seeds() -> list[bytes]:
    return (_files(ROOT / "examples" / "transcripts", "*")
            + _files(ROOT / "tests" / "transcripts" / "data", "*"))


def _check_transcript(result: Any) -> None:
    assert len(result) > 0, "empty transcript returned"
    assert [u.index for u in result] == list(range(len(result))), "indices not 0..n-1"
    roles = {u.role for u in result}
    assert {"therapist", "client"} <= roles, f"roles {roles}"
    for u in result:
        assert u.text.strip(), "empty utterance"
        if u.start is not None and u.end is not None:
            assert math.isfinite(u.start) and math.isfinite(u.end), "non-finite time"
            assert u.end >= u.start, "utterance ends before it starts"


def _transcript(fmt: str | None, source: str = "fuzz.txt") -> Callable[[bytes], object]:
    from alliance.transcripts import parse_transcript

    def call(data: bytes) -> object:
        result = parse_transcript(data, source, input_format=fmt)
        _check_transcript(result)
        return result
    return call


def _transcript_file(data: bytes) -> object:
    from alliance.transcripts import read_transcript

    suffix = (".txt", ".vtt", ".srt", ".json", ".jsonl", ".csv", ".tsv", "")[data[-1] % 8
                                                                            if data else 0]
    result = read_transcript(_file(data, suffix))
    _check_transcript(result)
    return result


def _roles(data: bytes) -> object:
    from alliance.transcripts import parse_roles, parse_transcript

    spec, _, body = data.partition(b"\n")
    roles = parse_roles(spec.decode("utf-8", "surrogateescape"))
    return parse_transcript(body, "fuzz.txt", roles=roles)


def _roles_seeds() -> list[bytes]:
    return [b"SPEAKER_00=therapist,SPEAKER_01=client\n" + s for s in _transcript_seeds()] + [
        b"Maria=client, Dr Okafor=counsellor\n" + s for s in _transcript_seeds()[:3]]


def _deidentify(data: bytes) -> object:
    from alliance.transcripts.documents import deidentify_document

    roster = ["Maria Lopez", "Dr. Okafor", "Hope Williams", "Sam"]
    return deidentify_document(data, "fuzz.txt", roster)


def _roster(data: bytes) -> object:
    from alliance.transcripts import deidentify_text
    from alliance.transcripts.roster import read_roster

    roster = read_roster(_file(data, ".txt"))
    return deidentify_text("Maria said to Dr. Okafor on 3 May: call 555-0100.", roster)


def _spec_seeds() -> list[bytes]:
    return _files(ROOT / "src" / "alliance" / "instruments" / "specs", "*.yaml")


def _spec(data: bytes) -> object:
    from alliance.instruments import score_response
    from alliance.interop.specfiles import load_spec_file

    inst = load_spec_file(_file(data, ".yaml"))
    # A spec that loads must score: the lowest answer to every item.
    return score_response(inst, {i.id: i.scale.min for i in inst.items})


def _wording_seeds() -> list[bytes]:
    import yaml

    from alliance.instruments.catalog import builtin_catalog

    out = []
    for inst in builtin_catalog().values():
        if inst.structure_only:
            wording = {"instrument": inst.id, "licence": "Fuzz licence 1",
                       "instructions": "Answer each item.",
                       "anchors": {inst.items[0].scale.min: "never",
                                   inst.items[0].scale.max: "always"},
                       "items": {i.id: f"Item {i.id} text" for i in inst.items}}
            out.append(yaml.safe_dump(wording, sort_keys=False).encode())
    return out


_DEPLOYER = _TMP / "instruments"


def _wording(data: bytes) -> object:
    from alliance.interop.specfiles import add_instrument

    shutil.rmtree(_DEPLOYER, ignore_errors=True)
    return add_instrument(_file(data, ".yaml"), _DEPLOYER, replace=True)


def _case_seeds() -> list[bytes]:
    example = (ROOT / "examples" / "cases" / "example.json").read_bytes()
    big = json.loads((ROOT / "examples" / "cases" / "synthetic-20.json").read_bytes())
    small = dict(big, cases=big["cases"][:2])
    return [example, json.dumps(small).encode()]


def _cases(data: bytes) -> object:
    from alliance.interop.casefiles import load_case_file
    from alliance.monitoring import default_policy, monitor_cases

    cases = load_case_file(_file(data, ".json"))
    reports = monitor_cases(cases, default_policy())
    return [r.to_dict() for r in reports]


def _policy_seeds() -> list[bytes]:
    from alliance.monitoring import default_policy_text

    return [default_policy_text().encode(), b"drop:\n  strict_sd: 2.5\n  lenient_sd: 1.5\n"]


_EXAMPLE_CASES: list[Any] = []


def _policy(data: bytes) -> object:
    from alliance.interop.casefiles import load_case_file, load_policy_file
    from alliance.monitoring import monitor_cases

    policy = load_policy_file(_file(data, ".yaml"))
    if not _EXAMPLE_CASES:
        _EXAMPLE_CASES.extend(load_case_file(ROOT / "examples" / "cases" / "example.json"))
    return [r.to_dict() for r in monitor_cases(_EXAMPLE_CASES, policy)]


def _responses(rows: int = 12) -> Any:
    import pandas as pd

    return pd.read_csv(ROOT / "examples" / "responses.csv").head(rows)


def _table_seeds(fmt: str) -> Callable[[], list[bytes]]:
    def seeds() -> list[bytes]:
        table = _responses()
        if fmt == "csv":
            return [(ROOT / "examples" / "responses.csv").read_bytes(),
                    table.to_csv(index=False).encode()]
        if fmt == "tsv":
            return [table.to_csv(index=False, sep="\t").encode()]
        if fmt == "json":
            records = table.to_json(orient="records")
            return [records.encode(), ('{"responses": ' + records + "}").encode()]
        buffer = io.BytesIO()
        if fmt == "xlsx":
            table.to_excel(buffer, index=False)
        else:
            table.to_parquet(buffer, index=False)
        return [buffer.getvalue()]
    return seeds


def _table(fmt: str, reliability: bool = False) -> Callable[[bytes], object]:
    def call(data: bytes) -> object:
        from alliance.instruments import get_instrument, score_table
        from alliance.instruments.reliability import scale_reliability
        from alliance.interop.tables import read_table

        inst = get_instrument("alliance-12")
        table = read_table(_file(data, "." + fmt), None, list(inst.item_ids))
        scored = score_table(inst, table)
        if reliability:
            return scale_reliability(inst, table, 0.95)
        return scored
    return call


def _xlsx_sheet(data: bytes) -> object:
    """Excel with a valid zip container around a fuzzed worksheet XML (past the CRC check)."""
    import zipfile

    template = _table_seeds("xlsx")()[0] if not _XLSX else _XLSX[0]
    _XLSX[:1] = [template]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = data if info.filename == "xl/worksheets/sheet1.xml" else src.read(info)
            dst.writestr(info.filename, body)
    return _table("xlsx")(out.getvalue())


_XLSX: list[bytes] = []


def _sheet_seeds() -> list[bytes]:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(_table_seeds("xlsx")()[0])) as z:
        return [z.read("xl/worksheets/sheet1.xml")]


QUICK_RUNS = 1500
TRANSCRIPT_FORMATS = ("text", "vtt", "srt", "whisper-json", "csv", "convokit")


def all_targets() -> list[Target]:
    """Every fuzz target, with its share of the long run (sums to 1,000,000+)."""
    targets = [Target("transcript-auto", "alliance.transcripts.parse_transcript (detected)",
                      _transcript(None), _transcript_seeds, 120_000),
               Target("transcript-file", "alliance.transcripts.read_transcript (by suffix)",
                      _transcript_file, _transcript_seeds, 30_000)]
    share = {"text": 120_000, "vtt": 80_000, "srt": 80_000, "whisper-json": 150_000,
             "csv": 100_000, "convokit": 120_000}
    targets += [Target(f"transcript-{fmt}", f"parse_transcript(input_format={fmt!r})",
                       _transcript(fmt), _transcript_seeds, share[fmt])
                for fmt in TRANSCRIPT_FORMATS]
    targets += [
        Target("transcript-roles", "parse_roles (--roles) + parse_transcript(roles=)",
               _roles, _roles_seeds, 60_000),
        Target("deidentify-document", "transcripts.documents.deidentify_document",
               _deidentify, _transcript_seeds, 20_000),
        Target("roster-file", "transcripts.roster.read_roster (+ deidentify_text)",
               _roster, lambda: [(ROOT / "examples" / "transcripts" / "names.txt").read_bytes()],
               40_000),
        Target("instrument-spec", "interop.specfiles.load_spec_file (parse_yaml_spec, "
               "parse_spec) + score_response", _spec, _spec_seeds, 20_000),
        Target("instrument-wording", "interop.specfiles.add_instrument (wording file, "
               "merge_wording)", _wording, _wording_seeds, 30_000),
        Target("case-file", "interop.casefiles.load_case_file (parse_cases) + monitor_cases",
               _cases, _case_seeds, 15_000),
        Target("policy-file", "interop.casefiles.load_policy_file (load_policy_text) + "
               "monitor_cases", _policy, _policy_seeds, 12_000),
        Target("table-csv", "interop.tables.read_table (CSV) + score_table", _table("csv"),
               _table_seeds("csv"), 12_000),
        Target("table-tsv", "read_table (TSV) + score_table", _table("tsv"),
               _table_seeds("tsv"), 5_000),
        Target("table-json", "read_table (JSON) + score_table", _table("json"),
               _table_seeds("json"), 30_000),
        Target("table-csv-reliability", "read_table (CSV) + scale_reliability",
               _table("csv", reliability=True), _table_seeds("csv"), 2_000),
        Target("table-parquet", "read_table (Parquet) + score_table", _table("parquet"),
               _table_seeds("parquet"), 30_000),
        Target("table-xlsx", "read_table (Excel, raw bytes) + score_table", _table("xlsx"),
               _table_seeds("xlsx"), 10_000),
        Target("table-xlsx-sheet", "read_table (Excel, fuzzed sheet XML in a valid zip)",
               _xlsx_sheet, _sheet_seeds, 4_000),
    ]
    return targets


def every_reader(targets: list[Target]) -> Target:
    """One target over all readers: the first input byte picks which reader gets the rest."""
    def call(data: bytes) -> object:
        if not data:
            return None
        return targets[data[0] % len(targets)].call(data[1:])

    def seeds() -> list[bytes]:
        return [bytes([i]) + s for i, t in enumerate(targets) for s in t.seeds()]

    return Target("all", "every reader, chosen by the first byte", call, seeds,
                  sum(t.runs for t in targets), dispatch=True)


# ----------------------------------------------------------------------------- running


class Recorder:
    """Counts executions and keeps one input per distinct crash (type + innermost frame)."""

    def __init__(self, target: Target, crash_dir: Path) -> None:
        self.target = target
        self.crash_dir = crash_dir
        self.execs = 0
        self.typed = 0
        self.crashes = 0
        self.distinct: dict[str, str] = {}
        self.slowest = 0.0

    def run(self, data: bytes) -> None:
        from alliance.errors import AllianceError

        self.execs += 1
        start = time.perf_counter()
        try:
            self.target.call(data)
        except AllianceError:
            self.typed += 1
        except Exception as exc:  # anything else is the finding
            self.crashes += 1
            self._keep(data, exc)
        self.slowest = max(self.slowest, time.perf_counter() - start)

    def _keep(self, data: bytes, exc: Exception) -> None:
        frames = traceback.extract_tb(exc.__traceback__)
        ours = [f for f in frames if "/alliance/" in f.filename] or frames
        where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
        key = f"{type(exc).__name__} at {where}"
        if key in self.distinct:
            return
        digest = hashlib.sha1(data).hexdigest()[:12]
        self.crash_dir.mkdir(parents=True, exist_ok=True)
        stem = self.crash_dir / f"crash-{self.target.name}-{digest}"
        stem.with_suffix(".bin").write_bytes(data)
        stem.with_suffix(".txt").write_text(
            f"{key}\n\n" + "".join(traceback.format_exception(exc)), encoding="utf-8")
        self.distinct[key] = str(stem.with_suffix(".bin"))
        print(f"CRASH {self.target.name}: {key} -> {stem}.bin", file=sys.stderr, flush=True)

    def summary(self, seconds: float, engine: str) -> dict[str, Any]:
        return {"target": self.target.name, "reader": self.target.reader, "engine": engine,
                "executions": self.execs, "typed_errors": self.typed,
                "crashes": self.crashes, "distinct_crashes": self.distinct,
                "seconds": round(seconds, 1), "slowest_input_s": round(self.slowest, 3)}


def _write(summary: dict[str, Any], out: Path | None) -> None:
    text = json.dumps(summary)
    if out is None:
        print(text, flush=True)
    else:
        out.write_text(text, encoding="utf-8")


def _corpus(target: Target) -> list[bytes]:
    return [s for s in target.seeds() if s]


def fuzz_with_atheris(target: Target, runs: int, crash_dir: Path, out: Path | None,
                      timeout: int, seed: int) -> None:
    """Coverage-guided, in this process; exits the process when ``runs`` inputs ran."""
    import atheris

    corpus = _corpus(target)
    corpus_dir = _TMP / "corpus"
    corpus_dir.mkdir(exist_ok=True)
    for i, item in enumerate(corpus):
        (corpus_dir / f"seed-{i}").write_bytes(item)
    recorder = Recorder(target, crash_dir)
    crash_dir.mkdir(parents=True, exist_ok=True)  # libFuzzer writes hangs and slow inputs here
    started = time.perf_counter()

    def one_input(data: bytes) -> None:
        recorder.run(data)
        if recorder.execs >= runs:
            _write(recorder.summary(time.perf_counter() - started, "atheris"), out)
            shutil.rmtree(_TMP, ignore_errors=True)
            os._exit(0)

    def mutator(data: bytes, max_size: int, mseed: int) -> bytes:
        rng = random.Random(mseed)
        if rng.random() < 0.4:
            return atheris.Mutate(data, max_size)
        if target.dispatch and data:
            return data[:1] + mutate(data[1:], rng, corpus, max_size - 1)
        return mutate(data, rng, corpus, max_size)

    max_len = max(8192, *(len(s) for s in corpus)) + 1024
    atheris.Setup([sys.argv[0], str(corpus_dir), f"-timeout={timeout}", f"-seed={seed}",
                   f"-max_len={max_len}", "-rss_limit_mb=4096", "-print_final_stats=0",
                   f"-artifact_prefix={crash_dir}/",
                   "-detect_leaks=0"], one_input, custom_mutator=mutator)
    atheris.Fuzz()


def fuzz_with_hypothesis(target: Target, runs: int, crash_dir: Path, out: Path | None,
                         seed: int) -> None:
    """Hypothesis draws a seed file and the mutations to apply (or raw bytes/text)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    corpus = _corpus(target)
    recorder = Recorder(target, crash_dir)
    def mutated_seed(pair: tuple[bytes, int]) -> bytes:
        data, rng = pair[0], random.Random(pair[1])
        if target.dispatch:
            return data[:1] + mutate(data[1:], rng, corpus)
        return mutate(data, rng, corpus)

    mutated = st.tuples(st.sampled_from(corpus), st.integers(0, 2**32 - 1)).map(mutated_seed)
    inputs = st.one_of(mutated, mutated, mutated, st.binary(max_size=2048),
                       st.text(max_size=512).map(lambda s: s.encode("utf-8", "surrogatepass")))

    @settings(max_examples=runs, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(inputs)
    def run(data: bytes) -> None:
        recorder.run(data)

    started = time.perf_counter()
    random.seed(seed)
    run()
    _write(recorder.summary(time.perf_counter() - started, "hypothesis"), out)


def _engine(requested: str) -> str:
    if requested != "auto":
        return requested
    try:
        import atheris  # noqa: F401
    except ImportError:
        return "hypothesis"
    return "atheris"


def _instrumented(engine: str) -> None:
    """Import the alliance package under atheris' coverage instrumentation."""
    if engine != "atheris":
        return
    import atheris

    with atheris.instrument_imports(include=["alliance"]):
        import alliance.instruments.reliability
        import alliance.interop.casefiles
        import alliance.interop.specfiles
        import alliance.interop.tables
        import alliance.monitoring
        import alliance.transcripts.documents
        import alliance.transcripts.roster  # noqa: F401


def run_child(args: argparse.Namespace) -> None:
    """Fuzz one target in this process (the driver starts one of these per target)."""
    engine = _engine(args.engine)
    _instrumented(engine)
    targets = all_targets()
    target = (every_reader(targets) if args.target == "all"
              else next(t for t in targets if t.name == args.target))
    out = Path(args.json) if args.json else None
    crash_dir = Path(args.crash_dir)
    if engine == "atheris":
        fuzz_with_atheris(target, args.runs, crash_dir, out, args.timeout, args.seed)
    else:
        fuzz_with_hypothesis(target, args.runs, crash_dir, out, args.seed)
        shutil.rmtree(_TMP, ignore_errors=True)


def _run_target(target: Target, engine: str, args: argparse.Namespace) -> dict[str, Any]:
    """Fuzz one target in a child process and return its summary."""
    runs = args.runs or (QUICK_RUNS if args.quick else target.runs)
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        summary_path = Path(fh.name)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--target",
               target.name, "--runs", str(runs), "--engine", engine, "--json",
               str(summary_path), "--crash-dir", args.crash_dir,
               "--timeout", str(args.timeout), "--seed", str(args.seed)]
    t0 = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - t0
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        tail = (proc.stdout + proc.stderr)[-3000:]
        summary = {"target": target.name, "reader": target.reader, "engine": engine,
                   "executions": 0, "typed_errors": 0, "crashes": 1,
                   "distinct_crashes": {f"process exited {proc.returncode}": tail},
                   "seconds": round(seconds, 1), "slowest_input_s": None}
    summary_path.unlink(missing_ok=True)
    if proc.returncode not in (0, None) and not summary["crashes"]:
        summary["crashes"] = 1
        summary["distinct_crashes"] = {f"process exited {proc.returncode}":
                                       (proc.stdout + proc.stderr)[-3000:]}
    print(f"{target.name:24} {summary['executions']:>9,} execs  "
          f"{summary['crashes']:>5} crashes  {summary['seconds']:>7.1f} s", flush=True)
    for key, where in summary["distinct_crashes"].items():
        print(f"    {key}: {where}", flush=True)
    return summary


def drive(args: argparse.Namespace) -> int:
    """Run every selected target in its own child process; print and return the totals."""
    targets = all_targets()
    shutil.rmtree(_TMP, ignore_errors=True)
    if args.target and args.target != "all":
        targets = [t for t in targets if t.name in args.target.split(",")]
    elif args.quick or args.target == "all":
        targets = [every_reader(targets)]
    engine = _engine(args.engine)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda t: _run_target(t, engine, args), targets))
    total = sum(r["executions"] for r in results)
    crashes = sum(r["crashes"] for r in results)
    seconds = time.perf_counter() - started
    print(f"{'total':24} {total:>9,} execs  {crashes:>5} crashes  {seconds:>7.1f} s  "
          f"engine {engine}, {len(results)} readers", flush=True)
    if args.report:
        Path(args.report).write_text(json.dumps(
            {"engine": engine, "executions": total, "crashes": crashes,
             "seconds": round(seconds, 1), "targets": results}, indent=2) + "\n",
            encoding="utf-8")
    return 1 if crashes else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} inputs over all "
                        "readers in one process")
    parser.add_argument("--target", help="comma-separated target names (default: all)")
    parser.add_argument("--runs", type=int, help="executions per target (overrides)")
    parser.add_argument("--engine", choices=["auto", "atheris", "hypothesis"], default="auto")
    parser.add_argument("--crash-dir", default=str(ROOT / "fuzz-crashes"))
    parser.add_argument("--report", help="write the totals and per-target figures as JSON")
    parser.add_argument("--timeout", type=int, default=60, help="seconds before an input "
                        "counts as a hang (atheris)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1, help="targets fuzzed at once")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.list:
        for t in all_targets():
            print(f"{t.name:24} {t.runs:>8,}  {t.reader}")
        return 0
    if args.child:
        run_child(args)
        return 0
    return drive(args)


if __name__ == "__main__":
    sys.exit(main())
