"""The printable case report: a real PDF from the local Chromium, scoped like the case page."""

from __future__ import annotations

import re
import shutil
import zlib

import pytest

from .conftest import Web, make_case, plant_drop

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not shutil.which("chromium"), reason="no local chromium")]


def pdf_text(pdf: bytes) -> str:
    """The document's info strings (Chromium writes the page title there, as UTF-16)."""
    out = []
    for m in re.finditer(rb"/Title\s*\(((?:\\.|[^\\)])*)\)|/Title\s*<([0-9A-Fa-f]+)>", pdf):
        if m.group(2):
            raw = bytes.fromhex(m.group(2).decode())
            out.append(raw.decode("utf-16") if raw[:2] == b"\xfe\xff" else raw.decode("latin-1"))
        else:
            raw = m.group(1)
            out.append(raw.decode("utf-16") if raw[:2] == b"\xfe\xff" else raw.decode("latin-1"))
    return " ".join(out)


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_case_report_is_a_one_or_two_page_pdf_with_the_case_title(web: Web) -> None:
    case_id, _ = make_case(web, web.people["dana"], label="Z dropped")
    plant_drop(web.db, web.people["dana"], case_id)
    r = web.session_for("dana").get(f"/cases/{case_id}/report.pdf")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    pdf = r.content
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert 1 <= pages(pdf) <= 2
    assert "Case report: Z dropped" in pdf_text(pdf)
    # the pages carry drawn content (the chart and text), not an empty sheet
    streams = [zlib.decompress(m) for m in re.findall(
        rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S) if m[:1] == b"x"]
    assert sum(len(s) for s in streams) > 20_000


def test_foreign_and_unknown_cases_are_404(web: Web) -> None:
    case_id, _ = make_case(web, web.people["dana"])
    assert web.session_for("sam").get(f"/cases/{case_id}/report.pdf").status_code == 404
    assert web.session_for("dana").get("/cases/999999/report.pdf").status_code == 404
    assert web.anonymous().get(f"/cases/{case_id}/report.pdf").status_code == 303
