"""No canary: where does health data end up in clear? (issue 11, "Prove").

A unique canary string is written into every free-text field, name and transcript of a
temporary SQLite clinic, through the app's own write paths (the store functions the web
routes call, and web requests for the case context, an alert's note, a failed request and a
500). Then the worker runs (transcript analysis, one transcript that fails), a backup is
taken (SQLite's online backup API), and the script scans every file the clinic leaves
behind, while the database is still open and again after it is closed: the database file,
its ``-wal`` and ``-shm``, the backup, and the log of everything the app logged (every
logger at INFO, with the traceback of the 500 as uvicorn would log it).

It looks for the canary plain, as hex (both cases), base64 (every byte alignment) and
UTF-16 (both byte orders), and reports every hit by file (with the offset) and, inside the
database and the backup, by table and column. Each seeded field carries the canary plus a
tag naming it, so a hit says which field leaked.

    PYTHONPATH=src python benchmarks/canary_scan.py [--report hits.json] [--keep DIR]

Exit status 1 when a log holds the canary, or a column listed in ``SEALED`` (the single
list of what must be ciphertext at rest, taken from the models) holds it in clear. Every
other hit is printed; ``NOT_HEALTH_DATA`` names what is in clear by design.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import json
import logging
import secrets
import sqlite3
import sys
import tempfile
import traceback
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = (ROOT / "examples" / "transcripts" / "rupture-repair.txt").read_text(encoding="utf-8")

def _sealed_columns() -> frozenset[str]:
    """What must never hold health data in clear: every sealed column of the models and
    every explicitly sealed bytes column (the lists key rotation works from)."""
    from alliance.store.rotation import BYTES, sealed_text_columns

    return frozenset({f"{t}.{c}" for t, c, _ in sealed_text_columns()}
                     | {f"{t}.{c}" for t, _, c, _, _ in BYTES})


SEALED = _sealed_columns()
# Free text and names still to be encrypted at rest (none left since issue 11 item 2).
PENDING: frozenset[str] = frozenset()
# In clear by design: staff names (log-in accounts, not client data; docs/security.md).
NOT_HEALTH_DATA = frozenset({"users.name"})


@dataclass(frozen=True)
class Hit:
    where: str      # a file name, or table.column inside a database file
    form: str       # plain, hex, HEX, base64, utf-16-le, utf-16-be
    field: str      # the tag of the seeded field, where the form shows it
    detail: str     # offset in the file, or the row


def forms(canary: str) -> dict[str, list[bytes]]:
    """The byte patterns that give ``canary`` away."""
    raw = canary.encode()
    b64 = []
    for shift in range(3):  # the canary at each byte alignment inside a larger base64 text
        encoded = base64.b64encode(b"\0" * shift + raw)
        start = -(-shift * 4 // 3)
        end = (shift + len(raw)) // 3 * 4
        b64.append(encoded[start:end])
    return {"plain": [raw], "hex": [raw.hex().encode()], "HEX": [raw.hex().upper().encode()],
            "base64": b64, "utf-16-le": [canary.encode("utf-16-le")],
            "utf-16-be": [canary.encode("utf-16-be")]}


def tag_after(data: bytes, end: int) -> str:
    tail = data[end:end + 40]
    tag = bytearray()
    for b in tail:
        if chr(b).isalnum():
            tag.append(b)
        else:
            break
    return tag.decode("ascii", "replace")


def scan_bytes(name: str, data: bytes, canary: str) -> list[Hit]:
    hits = []
    for form, patterns in forms(canary).items():
        for pattern in patterns:
            start = data.find(pattern)
            while start != -1:
                tag = tag_after(data, start + len(pattern)) if form == "plain" else ""
                hits.append(Hit(name, form, tag, f"offset {start}"))
                start = data.find(pattern, start + 1)
    return hits


def scan_tables(name: str, path: Path, canary: str) -> list[Hit]:
    """Hits by table.column (the row id): what a reader of the database sees in clear."""
    hits: list[Hit] = []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [t for (t,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [c[1] for c in conn.execute(f'PRAGMA table_info("{table}")')]
            for column in columns:
                for rowid, value in conn.execute(f'SELECT rowid, "{column}" FROM "{table}"'):
                    if value is None:
                        continue
                    data = value if isinstance(value, bytes) else str(value).encode()
                    for hit in scan_bytes(f"{name}:{table}.{column}", data, canary):
                        hits.append(Hit(hit.where, hit.form, hit.field, f"row {rowid}"))
    finally:
        conn.close()
    return hits


def scan_files(folder: Path, canary: str, label: str,
               scanned: list[str] | None = None) -> list[Hit]:
    hits = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != "key":
            name = f"{label}{path.relative_to(folder)}"
            if scanned is not None:
                scanned.append(f"{name} ({path.stat().st_size} bytes)")
            hits += scan_bytes(name, path.read_bytes(), canary)
    return hits


# -- seeding through the app ---------------------------------------------------------------

class Seeder:
    """A clinic in ``folder``, its web app, and the canary written into every field."""

    def __init__(self, folder: Path, canary: str) -> None:
        from alliance.clinic import Clinic, Settings
        from alliance.coding.coder import load_coder
        from alliance.store import Box, Database, generate_key, upgrade
        from alliance.web.app import create_app
        from alliance.worker import Worker

        self.folder, self.canary = folder, canary
        self.db = Database(f"sqlite:///{folder / 'clinic.db'}")
        upgrade(self.db.engine)
        key = generate_key()
        (folder / "key").write_text(key)
        self.box = Box.from_text(key)
        settings = Settings(database_url=self.db.url, box=self.box, run_worker=False,
                            transcript_coder="rules", instruments_dir=None)
        self.clinic = Clinic(settings, self.db,
                             coder_factory=lambda: load_coder(rules_only=True))
        self.worker = Worker(self.clinic)
        self.app = create_app(clinic=self.clinic)
        self.seeded: list[str] = []

    def c(self, tag: str) -> str:
        self.seeded.append(tag)
        return f"{self.canary}{tag}."  # the dot ends the tag in the raw bytes

    def client(self, who: Any) -> Any:
        from fastapi.testclient import TestClient

        from alliance.store import accounts
        from alliance.store.models import User
        from alliance.web.security import SESSION_COOKIE

        with self.db.write() as s:
            user = s.get(User, who.id)
            assert user is not None
            new = accounts.start_session(s, user)
        client = TestClient(self.app, base_url="https://testserver", follow_redirects=False,
                            raise_server_exceptions=False)
        client.cookies.set(SESSION_COOKIE, new.token, domain="testserver.local")
        client.csrf = new.csrf  # type: ignore[attr-defined]
        return client

    def seed(self) -> None:
        from alliance.store import accounts, cases, delivery, signals, surveys, transcripts
        from alliance.store.actors import load_actor

        with self.db.write() as s:
            admin = accounts.create_user(s, "admin@example.org", "Admin", "admin",
                                         "canary-scan-password-1")
            clin = accounts.create_user(s, "dana@example.org", self.c("StaffName"),
                                        "clinician", "canary-scan-password-1")
            s.flush()
            self.admin, self.dana = load_actor(s, admin), load_actor(s, clin)
        with self.db.write() as s:
            case = cases.create_case(s, self.dana, cases.CaseDraft(
                label=self.c("CaseLabel"), members=(self.c("MemberName"),),
                cultural_notes=self.c("CulturalNotesAtOpen"), consent_transcripts=True,
                measures=[("alliance-12", "client", 1)]))
            family = cases.create_case(s, self.dana, cases.CaseDraft(
                label=self.c("FamilyLabel"), modality="couple",
                members=(self.c("PartnerA"), self.c("PartnerB"))))
            self.case_id, self.family_id = case.id, family.id
            sessions = [cases.add_session(s, self.dana, case.id,
                                          date=dt.date(2026, 1, 5) + dt.timedelta(weeks=i))
                        for i in range(6)]
            self.session_ids = [x.id for x in sessions]
            member = cases.members(s, case.id)[0]
            self.member_id = member.id
            delivery.set_contact(s, self.dana, self.box, case.id, member.id,
                                 email=f"{self.c('ContactEmail')[:-1]}@example.org",
                                 phone="+15550100123")
            signals.set_safety_text(s, self.admin, "en", self.c("SafetyText"))
        # a drop in the alliance (4 high sessions, then a low one): an alert to act on
        for i, level in enumerate([4, 4, 4, 4, 2]):
            with self.db.write() as s:
                answers = {k: (6 - level if k.endswith("3") else level) for k in
                           ("b1", "b2", "b3", "b4", "g1", "g2", "g3", "g4",
                            "t1", "t2", "t3", "t4")}
                surveys.enter_paper(s, self.dana, case.id, self.session_ids[i],
                                    instrument_id="alliance-12", rater="client",
                                    member_id=self.member_id, answers=answers)
        # a survey link answered by the client, then the client's message
        with self.db.write() as s:
            issued = surveys.create_link(s, self.dana, case.id, self.session_ids[5],
                                         instrument_id="alliance-12", member_id=self.member_id)
            surveys.submit(s, issued.token, {"b1": 3})
        with self.db.write() as s:
            signals.leave_feedback(s, self.box, issued.token, self.c("ClientMessage"),
                                   now=dt.datetime.now(dt.UTC))
        with self.db.write() as s:
            response = surveys.responses(s, case.id)[0]
            surveys.void_response(s, self.dana, case.id, response.id, self.c("VoidReason"))
        # transcripts: one that analyses, one that fails (its text is not a transcript)
        text = SAMPLE.replace("Client: Fine.", f"Client: Fine. {self.c('TranscriptText')}")
        with self.db.write() as s:
            transcripts.upload(s, self.box, self.dana, case.id, self.session_ids[0],
                               f"{self.c('TranscriptFilename')}txt", text.encode())
            transcripts.upload(s, self.box, self.dana, case.id, self.session_ids[1],
                               f"{self.c('FailedFilename')}txt",
                               f"Only one voice here {self.c('FailedTranscriptText')}\n"
                               .encode())
        self.worker.drain()
        # the web: the case context, an alert's note, a failed request, a 500
        web = self.client(self.dana)
        r = web.post(f"/cases/{case.id}/context",
                     data={"csrf": web.csrf, "cultural_notes": self.c("CulturalNotes")})
        assert r.status_code == 303, r.status_code
        self.worker.drain()
        with self.db.read() as s:
            from alliance.store.actors import get_case
            from alliance.store.monitoring import case_monitors

            alert_id = case_monitors(s, [get_case(s, self.dana, case.id)])[case.id].alert_id
        if alert_id:
            url = f"/cases/{case.id}/alerts/{alert_id}"
            web.post(url, data={"csrf": web.csrf, "action": "acknowledge",
                                "note": self.c("AlertNote")})
            web.post(url, data={"csrf": web.csrf, "action": "resolve",
                                "note": self.c("ResolutionNote")})
        self.errors(web)

    def errors(self, web: Any) -> None:
        """Requests that fail, each carrying the canary: bad input, a CSRF failure, a
        foreign id, a failed log-in, and a 500 (a bug in a statement holding the note)."""
        from fastapi.testclient import TestClient
        from sqlalchemy import text

        from alliance.store import cases

        web.post("/cases", data={"csrf": web.csrf, "label": self.c("BadInputLabel"),
                                 "modality": "nonsense", "members": self.c("BadInputMember")})
        web.post(f"/cases/{self.case_id}/context",
                 data={"csrf": "wrong", "cultural_notes": self.c("CsrfFailureNote")})
        web.post("/cases/999999/context",
                 data={"csrf": web.csrf, "cultural_notes": self.c("ForeignIdNote")})
        anonymous = TestClient(self.app, base_url="https://testserver", follow_redirects=False)
        anonymous.post("/login", data={"email": f"{self.c('LoginEmail')[:-1]}@example.org",
                                       "password": self.c("LoginPassword"), "csrf": "x"},
                       cookies={"__Host-alliance-login": "x"})
        original = cases.update_context

        def broken(s: Any, actor: Any, case_id: int, *, cultural_notes: str,
                   normative_cues: Any) -> None:
            s.execute(text("INSERT INTO no_such_table (x) VALUES (:note)"),
                      {"note": cultural_notes})

        cases.update_context = broken  # type: ignore[assignment]
        try:
            crashing = self.client(self.dana)
            crashing._transport.raise_server_exceptions = True
            try:
                crashing.post(f"/cases/{self.case_id}/context",
                              data={"csrf": crashing.csrf,
                                    "cultural_notes": self.c("ServerErrorNote")})
            except Exception as exc:  # what uvicorn logs for a 500: the whole traceback
                logging.getLogger("uvicorn.error").error(
                    "Exception in ASGI application\n%s",
                    "".join(traceback.format_exception(exc)))
        finally:
            cases.update_context = original

    def backup(self) -> Path:
        """The database copied with SQLite's online backup API."""
        target = self.folder / "backups" / "clinic-backup.db"
        target.parent.mkdir()
        source = sqlite3.connect(self.folder / "clinic.db")
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
            source.close()
        return target


@contextlib.contextmanager
def logged_to(path: Path) -> Iterator[None]:
    """Everything logged at INFO and above, by any logger, into ``path``."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def run(folder: Path) -> dict[str, Any]:
    canary = "Cnry" + secrets.token_hex(6)
    logs = folder / "logs"
    logs.mkdir()
    with logged_to(logs / "app.log"):
        seeder = Seeder(folder, canary)
        seeder.seed()
        seeder.backup()
        scanned: list[str] = []
        open_hits = scan_files(folder, canary, "open:", scanned)  # the WAL is there while open
        seeder.db.dispose()
    closed_hits = scan_files(folder, canary, "", scanned)
    tables = scan_tables("clinic.db", folder / "clinic.db", canary)
    tables += scan_tables("backup", folder / "backups" / "clinic-backup.db", canary)
    hits = open_hits + closed_hits + tables
    in_logs = [h for h in hits if "logs/" in h.where]
    columns = {h.where.split(":", 1)[1] for h in tables}
    sealed_leaks = sorted(columns & SEALED)
    return {"canary": canary, "seeded": seeder.seeded, "scanned": scanned,
            "hits": [asdict(h) for h in hits],
            "files": sorted({h.where for h in open_hits + closed_hits}),
            "columns_in_clear": sorted(columns), "log_hits": len(in_logs),
            "sealed_leaks": sealed_leaks,
            "pending_in_clear": sorted(columns & PENDING),
            "not_health_data": sorted(columns & NOT_HEALTH_DATA),
            "unlisted_in_clear": sorted(columns - PENDING - SEALED - NOT_HEALTH_DATA)}


def summary(r: dict[str, Any]) -> list[str]:
    lines = [f"canary {r['canary']} seeded into {len(r['seeded'])} fields: "
             f"{', '.join(r['seeded'])}", f"files scanned: {', '.join(r['scanned'])}"]
    by_place: dict[str, set[str]] = {}
    for hit in r["hits"]:
        place = hit["where"]
        by_place.setdefault(place, set()).add(hit["field"] or hit["form"])
    for place in sorted(by_place):
        n = sum(1 for h in r["hits"] if h["where"] == place)
        forms_ = sorted({h["form"] for h in r["hits"] if h["where"] == place})
        lines.append(f"  {place}: {n} hit(s) [{', '.join(forms_)}] "
                     f"{', '.join(sorted(x for x in by_place[place] if x))}")
    lines.append(f"logs: {r['log_hits']} hit(s); sealed columns in clear: "
                 f"{r['sealed_leaks'] or 'none'}")
    lines.append(f"free text still to encrypt: "
                 f"{', '.join(r['pending_in_clear']) or 'none'}")
    lines.append(f"in clear by design (not client data): "
                 f"{', '.join(r['not_health_data']) or 'none'}")
    if r["unlisted_in_clear"]:
        lines.append(f"in clear and in neither list: {', '.join(r['unlisted_in_clear'])}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", type=Path, help="write every hit as JSON here")
    parser.add_argument("--keep", type=Path, help="work in this (new) folder and keep it")
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True)
        result = run(args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="alliance-canary-") as tmp:
            result = run(Path(tmp))
    for line in summary(result):
        print(line)
    if args.report:
        args.report.write_text(json.dumps(result, indent=2), encoding="utf-8")
    ok = result["log_hits"] == 0 and not result["sealed_leaks"]
    print("PASS (no canary in logs or sealed columns)" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
