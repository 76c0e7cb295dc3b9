"""Session reports: JSON (schema ``alliance.transcript-report/1``), HTML and terminal text.

The JSON report is the contract (documented in ``docs/transcript-report.md``, schema in
``transcript-report.schema.json``); HTML and text are renderings of it. The HTML report is
one self-contained file: our own CSS and an inline SVG timeline
(:func:`alliance.coding.timeline.timeline_svg`, shared with the web page), no scripts, no
CDN; all transcript text is HTML-escaped. Codes are shown by their plain-language names,
with the code id on hover.
"""

from __future__ import annotations

import html
import io
import json
from functools import lru_cache
from importlib import resources
from typing import Any

from alliance.coding.codebook import FAMILIES, MARKER_FAMILIES, load_codebook
from alliance.coding.coder import MODE_RULES, CodedTranscript, CodedUtterance
from alliance.coding.episodes import find_episodes
from alliance.coding.summary import summarise
from alliance.coding.timeline import FAMILY_COLOURS, timeline_svg
from alliance.errors import CodingError

SCHEMA = "alliance.transcript-report/1"
RULES_ONLY_NOTE = ("rules-only mode: codes come from the lexicon rules and context features "
                   "alone, without the embedding model; expect lower recall")
HYBRID_NOTE = "hybrid mode: lexicon rules, context features and classifier heads on embeddings"


def _reading(cu: CodedUtterance) -> dict[str, Any] | None:
    r = cu.reading
    if r is None:
        return None
    i = cu.utterance.index
    kind = r.kind if r.head == i else "continuation"
    out: dict[str, Any] = {"kind": kind, "unit": r.head}
    if len(r.indices) > 1 and kind != "continuation":
        out["indices"] = list(r.indices)
    if r.attached_to is not None:
        out["attached_to"] = r.attached_to
    return out


def _codes(cu: CodedUtterance, labels: dict[str, str]) -> list[dict[str, Any]]:
    """The utterance's codes, each once (the most confident if a code came twice)."""
    best: dict[str, Any] = {}
    for c in cu.codes:
        if c.code not in best or c.confidence > best[c.code].confidence:
            best[c.code] = c
    return [{"code": c.code, "label": labels.get(c.code, c.code), "family": c.family,
             "confidence": c.confidence, "evidence": c.evidence, "span": [c.start, c.end],
             "source": c.source} for c in best.values()]


def build_report(coded: CodedTranscript, *, deidentified: bool = False) -> dict[str, Any]:
    """The JSON-ready report of one coded transcript."""
    episodes = find_episodes(coded.utterances)
    summary = summarise(coded.utterances, episodes)
    t = coded.transcript
    labels = {n: c.label for n, c in load_codebook().codes.items()}
    utterances = []
    for cu in coded.utterances:
        entry: dict[str, Any] = {
            "index": cu.utterance.index, "speaker": cu.utterance.speaker,
            "role": cu.utterance.role, "text": cu.utterance.text,
            "start": cu.utterance.start, "end": cu.utterance.end, "codes": _codes(cu, labels)}
        reading = _reading(cu)
        if reading is not None:
            entry["reading"] = reading
        utterances.append(entry)
    return {
        "schema": SCHEMA,
        "source": t.source,
        "format": t.format,
        "deidentified": deidentified,
        "coder": {
            "mode": coded.mode, "rules_only": coded.mode == MODE_RULES,
            "model": coded.model, "heads_version": coded.heads_version,
            "note": RULES_ONLY_NOTE if coded.mode == MODE_RULES else HYBRID_NOTE,
            "calibration": coded.calibration or "",
        },
        "speakers": dict(t.speakers),
        "utterances": utterances,
        "episodes": [e.to_dict() for e in episodes],
        "summary": summary.to_dict(),
    }


@lru_cache(maxsize=1)
def report_schema() -> dict[str, Any]:
    text = resources.files("alliance.coding").joinpath(
        "transcript-report.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def validate_report(report: Any) -> None:
    """Raise :class:`CodingError` naming the first place ``report`` breaks the schema."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(report_schema())
    error = next(iter(sorted(validator.iter_errors(report), key=lambda e: list(e.path))), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise CodingError(f"report does not match {SCHEMA} at {where}: {error.message}")


def to_json(report: dict[str, Any], *, indent: int | None = 2) -> str:
    return json.dumps(report, ensure_ascii=False, indent=indent)


# ---------------------------------------------------------------------------- text
def percent(rate: float | None) -> str:
    """A rate in [0, 1] as a percentage ("67%"), or "n/a"."""
    return "n/a" if rate is None else f"{100 * rate:.0f}%"


def label_of(code: str) -> str:
    """The plain-language name of a code (the id itself when unknown)."""
    book = load_codebook()
    return book.codes[code].label if code in book else code


def render_text(report: dict[str, Any], width: int = 100) -> str:
    """A terminal summary (rich), returned as plain text with no colour codes."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=width, record=True, color_system=None, force_terminal=False,
                      file=io.StringIO())
    s = report["summary"]
    coder = report["coder"]
    console.print(f"[bold]{report['source']}[/bold]  ({len(report['utterances'])} utterances, "
                  f"coder: {coder['mode']})")
    if coder["rules_only"]:
        console.print(f"note: {coder['note']}")
    lo, hi = s.get("alliance_index_interval", [0.0, 1.0])
    console.print(f"alliance index {s['alliance_index']:.2f} (90% interval {lo:.2f}-{hi:.2f})"
                  f" | resolution rate {percent(s['resolution_rate'])} | joint-action we "
                  f"{s['we_rate']:.1f} per 100 therapist turns")
    console.print(f"  {s.get('alliance_index_meaning', '')}")
    for w in s.get("warnings", []):
        console.print(f"warning: {w}")
    if coder.get("calibration"):
        console.print(f"confidences: {coder['calibration']}")
    fam = Table(title="Codes per family (assigned; expected = sum of probabilities)")
    fam.add_column("")
    for f in FAMILIES:
        fam.add_column(f, justify="right")
    fam.add_row("assigned", *(str(s["counts"][f]) for f in FAMILIES))
    exp = s.get("expected_counts") or {}
    fam.add_row("expected", *(f"{exp.get(f, 0.0):.1f}" for f in FAMILIES))
    console.print(fam)
    if report["episodes"]:
        ep = Table(title="Rupture-repair episodes")
        for col in ("marker", "code", "repair moves", "threats", "resolution"):
            ep.add_column(col)
        for e in report["episodes"]:
            ep.add_row(f"#{e['marker_index']}", label_of(e["marker_code"]),
                       ", ".join(f"#{r['index']} {label_of(r['code'])}"
                                 for r in e["repair"]) or "-",
                       ", ".join(f"#{r['index']} {label_of(r['code'])}"
                                 for r in e["threats"]) or "-",
                       e["resolution"])
        console.print(ep)
    else:
        console.print("no rupture markers coded")
    return console.export_text()


# ---------------------------------------------------------------------------- html
_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#1f2937}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}
.note{background:#fef3c7;padding:.5rem .75rem;border-radius:4px}
.kpi{display:flex;gap:1rem;flex-wrap:wrap}.kpi div{border:1px solid #d1d5db;border-radius:6px;
padding:.5rem .8rem}.kpi b{display:block;font-size:1.3rem}
table.counts td,table.counts th{padding:.2rem .6rem;text-align:right}
.utt{display:grid;grid-template-columns:3.2rem 7rem 1fr;gap:.5rem;padding:.3rem 0;
border-bottom:1px solid #f3f4f6}.utt .idx{color:#6b7280}.utt.therapist .who{color:#1d4ed8}
.utt.client .who{color:#92400e}.codes span{display:inline-block;font-size:.75rem;
border-radius:3px;color:#fff;padding:0 .35rem;margin:.15rem .2rem 0 0}
mark{background:#fde68a}.card{border:1px solid #d1d5db;border-left-width:6px;border-radius:6px;
padding:.5rem .8rem;margin:.6rem 0}.card.resolved{border-left-color:#15803d}
.card.partial{border-left-color:#d97706}.card.unresolved{border-left-color:#b91c1c}
svg text{font:11px system-ui,sans-serif}.kpi small{display:block;color:#6b7280}
.meaning{font-style:italic}.small{font-size:.85rem;color:#4b5563}
em.reading{font-size:.75rem;color:#6b7280;margin-left:.3rem}
"""


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _highlight(text: str, codes: list[dict[str, Any]]) -> str:
    """Escape ``text`` and wrap the evidence spans in <mark> (overlaps merged)."""
    spans = sorted((c["span"][0], c["span"][1]) for c in codes if "span" in c
                   and c["span"][1] > c["span"][0])
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out, pos = [], 0
    for s, e in merged:
        s, e = max(s, pos), min(e, len(text))
        if s >= e:
            continue
        out.append(_esc(text[pos:s]))
        out.append(f"<mark>{_esc(text[s:e])}</mark>")
        pos = e
    out.append(_esc(text[pos:]))
    return "".join(out)


def _named(code: str) -> str:
    """A code's plain-language name, its id on hover."""
    return f"<span title=\"{_esc(code)}\">{_esc(label_of(code))}</span>"


def render_html(report: dict[str, Any]) -> str:
    book = load_codebook()
    s = report["summary"]
    coder = report["coder"]
    title = f"Alliance report: {report['source']}"
    rr = s["resolution_rate"]
    lo, hi = s.get("alliance_index_interval", [0.0, 1.0])
    out = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
           f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{_esc(title)}</h1>",
           f"<p class=\"note\">Coder: {_esc(coder['note'])}. "
           "Codes are suggestions for a clinician or researcher to check, not a diagnosis; "
           "the alliance index is this project's summary index, not a WAI score.</p>",
           "<div class=\"kpi\">"
           f"<div>alliance index<b>{s['alliance_index']:.2f}</b>"
           f"<small>90% interval {lo:.2f}–{hi:.2f}</small></div>"
           f"<div>episodes resolved<b>{percent(rr)}</b></div>"
           f"<div>joint-action “we” / 100 therapist turns<b>{s['we_rate']:.1f}</b></div>"
           f"<div>episodes<b>{s['episodes']['total']}</b></div></div>",
           f"<p class=\"meaning\">{_esc(s.get('alliance_index_meaning', ''))}</p>",
           "".join(f"<p class=\"note\">Warning: {_esc(w)}</p>"
                   for w in s.get("warnings", [])),
           f"<p class=\"small\">Confidences: {_esc(coder.get('calibration', ''))}.</p>",
           "<h2>Timeline</h2>", timeline_svg(report),
           "<h2>Codes per family</h2><table class=\"counts\"><tr><th></th>",
           "".join(f"<th>{_esc(book.families[f].label)}</th>" for f in FAMILIES),
           "</tr><tr><th>assigned</th>",
           "".join(f"<td>{s['counts'][f]}</td>" for f in FAMILIES),
           "</tr><tr><th title=\"sum of the codes' probabilities\">expected</th>",
           "".join(f"<td>{(s.get('expected_counts') or {}).get(f, 0.0):.1f}</td>"
                   for f in FAMILIES), "</tr></table>",
           "<h2>Episodes</h2>"]
    if not report["episodes"]:
        out.append("<p>No rupture markers were coded.</p>")
    texts = {u["index"]: u["text"] for u in report["utterances"]}
    for e in report["episodes"]:
        label = book.codes[e["marker_code"]].label if e["marker_code"] in book else ""
        reps = "".join(f"<li>#{r['index']} {_named(r['code'])}</li>" for r in e["repair"])
        thr = "".join(f"<li>#{r['index']} {_named(r['code'])}</li>" for r in e["threats"])
        out.append(
            f"<div class=\"card {_esc(e['resolution'])}\"><b>#{e['marker_index']} "
            f"<span title=\"{_esc(e['marker_code'])}\">{_esc(label or e['marker_code'])}"
            f"</span></b>, {_esc(e.get('speaker', ''))}"
            f" — {_esc(e['resolution'])}"
            f"<br><q>{_esc(texts.get(e['marker_index'], ''))}</q>"
            f"<br>Repair moves: {'<ul>' + reps + '</ul>' if reps else 'none'}"
            f"<br>Therapist threats: {'<ul>' + thr + '</ul>' if thr else 'none'}</div>")
    out.append("<h2>Transcript</h2>")
    for u in report["utterances"]:
        badges = "".join(
            f"<span style=\"background:{FAMILY_COLOURS[c['family']]}\" "
            f"title=\"{_esc(c['code'])}: {_esc(c['evidence'])}\">"
            f"{_esc(c.get('label') or label_of(c['code']))} {c['confidence']:.2f}</span>"
            for c in u["codes"])
        reading = u.get("reading") or {}
        if reading.get("kind") in ("listener", "crosstalk", "continuation"):
            note = {"listener": "listener token", "crosstalk": "crosstalk, read with #"
                    f"{reading.get('attached_to', '')}", "continuation": "continues #"
                    f"{reading['unit']}"}[reading["kind"]]
            badges += f"<em class=\"reading\">{_esc(note)}</em>"
        marker = " marker" if any(c["family"] in MARKER_FAMILIES for c in u["codes"]) else ""
        out.append(f"<div class=\"utt {_esc(u['role'])}{marker}\" id=\"u{u['index']}\">"
                   f"<div class=\"idx\">#{u['index']}</div><div class=\"who\">"
                   f"{_esc(u['speaker'])}</div><div>{_highlight(u['text'], u['codes'])}"
                   f"<div class=\"codes\">{badges}</div></div></div>")
    out.append("</body></html>")
    return "".join(out)
