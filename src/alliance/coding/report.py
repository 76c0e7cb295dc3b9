"""Session reports: JSON (schema ``alliance.transcript-report/1``), HTML and terminal text.

The JSON report is the contract (documented in ``docs/transcript-report.md``, schema in
``transcript-report.schema.json``); HTML and text are renderings of it. The HTML report is
one self-contained file: our own CSS and an inline SVG timeline we draw here, no scripts,
no CDN; all transcript text is HTML-escaped.
"""

from __future__ import annotations

import html
import io
import json
from functools import lru_cache
from importlib import resources
from typing import Any

from alliance.coding.codebook import FAMILIES, MARKER_FAMILIES, load_codebook
from alliance.coding.coder import MODE_RULES, CodedTranscript
from alliance.coding.episodes import find_episodes
from alliance.coding.summary import summarise
from alliance.errors import CodingError

SCHEMA = "alliance.transcript-report/1"
RULES_ONLY_NOTE = ("rules-only mode: codes come from the lexicon rules and context features "
                   "alone, without the embedding model; expect lower recall")
HYBRID_NOTE = "hybrid mode: lexicon rules, context features and classifier heads on embeddings"
FAMILY_COLOURS = {
    "withdrawal": "#b45309", "confrontation": "#b91c1c", "safety": "#7c3aed",
    "bond": "#0e7490", "repair": "#15803d", "threat": "#111827", "collaboration": "#1d4ed8",
}


def build_report(coded: CodedTranscript, *, deidentified: bool = False) -> dict[str, Any]:
    """The JSON-ready report of one coded transcript."""
    episodes = find_episodes(coded.utterances)
    summary = summarise(coded.utterances, episodes)
    t = coded.transcript
    return {
        "schema": SCHEMA,
        "source": t.source,
        "format": t.format,
        "deidentified": deidentified,
        "coder": {
            "mode": coded.mode, "rules_only": coded.mode == MODE_RULES,
            "model": coded.model, "heads_version": coded.heads_version,
            "note": RULES_ONLY_NOTE if coded.mode == MODE_RULES else HYBRID_NOTE,
        },
        "speakers": dict(t.speakers),
        "utterances": [
            {"index": cu.utterance.index, "speaker": cu.utterance.speaker,
             "role": cu.utterance.role, "text": cu.utterance.text,
             "start": cu.utterance.start, "end": cu.utterance.end,
             "codes": [{"code": c.code, "family": c.family, "confidence": c.confidence,
                        "evidence": c.evidence, "span": [c.start, c.end], "source": c.source}
                       for c in cu.codes]}
            for cu in coded.utterances
        ],
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
    ri = s["resolution_rate"]
    console.print(f"alliance index {s['alliance_index']:.2f} (a project index, not a WAI "
                  f"score) | resolution rate {'n/a' if ri is None else f'{ri:.2f}'} | "
                  f"we-language {s['we_rate']:.1f} per 100 therapist turns")
    fam = Table(title="Codes per family")
    for f in FAMILIES:
        fam.add_column(f, justify="right")
    fam.add_row(*(str(s["counts"][f]) for f in FAMILIES))
    console.print(fam)
    if report["episodes"]:
        ep = Table(title="Rupture-repair episodes")
        for col in ("marker", "code", "repair moves", "threats", "resolution"):
            ep.add_column(col)
        for e in report["episodes"]:
            ep.add_row(f"#{e['marker_index']}", e["marker_code"],
                       ", ".join(f"#{r['index']} {r['code']}" for r in e["repair"]) or "-",
                       ", ".join(f"#{r['index']} {r['code']}" for r in e["threats"]) or "-",
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
svg text{font:11px system-ui,sans-serif}
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


def _timeline(report: dict[str, Any]) -> str:
    """Inline SVG: one lane per family, a tick per coded utterance, episode arcs."""
    n = max(1, len(report["utterances"]))
    left, width, lane = 110, 760, 22

    def x(i: int) -> float:
        return left + (i + 0.5) * width / n

    height = lane * len(FAMILIES) + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 10}" '
             f'height="{height}" role="img" aria-label="session timeline">']
    for k, fam in enumerate(FAMILIES):
        y = 20 + k * lane
        parts.append(f'<text x="4" y="{y + 4}">{_esc(fam)}</text>'
                     f'<line x1="{left}" y1="{y}" x2="{left + width}" y2="{y}" '
                     f'stroke="#e5e7eb"/>')
        for u in report["utterances"]:
            fam_codes = [c for c in u["codes"] if c["family"] == fam]
            if fam_codes:
                title = _esc(f"#{u['index']} {', '.join(c['code'] for c in fam_codes)}")
                parts.append(f'<circle cx="{x(u["index"]):.1f}" cy="{y}" r="5" '
                             f'fill="{FAMILY_COLOURS[fam]}"><title>{title}</title></circle>')
    lanes = {f: 20 + k * lane for k, f in enumerate(FAMILIES)}
    for e in report["episodes"]:
        y0 = lanes[e["marker_code"].split(".")[0]]
        for r in e["repair"]:
            parts.append(f'<line x1="{x(e["marker_index"]):.1f}" y1="{y0}" '
                         f'x2="{x(r["index"]):.1f}" y2="{lanes["repair"]}" stroke="#15803d" '
                         f'stroke-opacity=".35"/>')
    axis = 20 + len(FAMILIES) * lane
    parts.append(f'<text x="{left}" y="{axis}">utterance 0</text>'
                 f'<text x="{left + width - 80}" y="{axis}">utterance {n - 1}</text></svg>')
    return "".join(parts)


def render_html(report: dict[str, Any]) -> str:
    book = load_codebook()
    s = report["summary"]
    coder = report["coder"]
    title = f"Alliance report: {report['source']}"
    rr = s["resolution_rate"]
    out = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
           f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{_esc(title)}</h1>",
           f"<p class=\"note\">Coder: {_esc(coder['note'])}. "
           "Codes are suggestions for a clinician or researcher to check, not a diagnosis; "
           "the alliance index is this project's summary index, not a WAI score.</p>",
           "<div class=\"kpi\">"
           f"<div>alliance index<b>{s['alliance_index']:.2f}</b></div>"
           f"<div>resolution rate<b>{'n/a' if rr is None else f'{rr:.2f}'}</b></div>"
           f"<div>we-language / 100 therapist turns<b>{s['we_rate']:.1f}</b></div>"
           f"<div>episodes<b>{s['episodes']['total']}</b></div></div>",
           "<h2>Timeline</h2>", _timeline(report),
           "<h2>Codes per family</h2><table class=\"counts\"><tr>",
           "".join(f"<th>{_esc(f)}</th>" for f in FAMILIES), "</tr><tr>",
           "".join(f"<td>{s['counts'][f]}</td>" for f in FAMILIES), "</tr></table>",
           "<h2>Episodes</h2>"]
    if not report["episodes"]:
        out.append("<p>No rupture markers were coded.</p>")
    texts = {u["index"]: u["text"] for u in report["utterances"]}
    for e in report["episodes"]:
        label = book.codes[e["marker_code"]].label if e["marker_code"] in book else ""
        reps = "".join(f"<li>#{r['index']} {_esc(r['code'])}</li>" for r in e["repair"])
        thr = "".join(f"<li>#{r['index']} {_esc(r['code'])}</li>" for r in e["threats"])
        out.append(
            f"<div class=\"card {_esc(e['resolution'])}\"><b>#{e['marker_index']} "
            f"{_esc(e['marker_code'])}</b> ({_esc(label)}), {_esc(e.get('speaker', ''))}"
            f" — {_esc(e['resolution'])}"
            f"<br><q>{_esc(texts.get(e['marker_index'], ''))}</q>"
            f"<br>Repair moves: {'<ul>' + reps + '</ul>' if reps else 'none'}"
            f"<br>Therapist threats: {'<ul>' + thr + '</ul>' if thr else 'none'}</div>")
    out.append("<h2>Transcript</h2>")
    for u in report["utterances"]:
        badges = "".join(
            f"<span style=\"background:{FAMILY_COLOURS[c['family']]}\" "
            f"title=\"{_esc(c['evidence'])}\">{_esc(c['code'])} {c['confidence']:.2f}</span>"
            for c in u["codes"])
        marker = " marker" if any(c["family"] in MARKER_FAMILIES for c in u["codes"]) else ""
        out.append(f"<div class=\"utt {_esc(u['role'])}{marker}\" id=\"u{u['index']}\">"
                   f"<div class=\"idx\">#{u['index']}</div><div class=\"who\">"
                   f"{_esc(u['speaker'])}</div><div>{_highlight(u['text'], u['codes'])}"
                   f"<div class=\"codes\">{badges}</div></div></div>")
    out.append("</body></html>")
    return "".join(out)
