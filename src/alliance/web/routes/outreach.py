"""Contact details, the client's signals, the opt-out page and the clinic's safety text.

Each route parses the request, makes one store call and renders or redirects; the
survey-side pages (thank-you, the client's message) live in :mod:`.survey`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from alliance.store import delivery, signals
from alliance.store.actors import require_role
from alliance.web import client_text, forms
from alliance.web.deps import clinic_of
from alliance.web.rendering import render
from alliance.web.security import Visit, authenticate

router = APIRouter()
Auth = Annotated[Visit, Depends(authenticate)]


@router.post("/cases/{case_id}/members/{member_id}/contact")
async def save_contact(request: Request, visit: Auth, case_id: int, member_id: int) -> Response:
    form = await forms.read(request, visit)
    clinic = clinic_of(request)
    values = {"email": forms.text(form, "email", 254), "phone": forms.text(form, "phone", 32),
              "preferred": forms.text(form, "preferred", 10) or "email",
              "language": forms.text(form, "language", 10) or "en",
              "opted_out": form.get("opted_out") == "yes"}

    def work() -> None:
        with clinic.db.write() as s:
            delivery.set_contact(s, visit.actor, clinic.box, case_id, member_id,
                                 **values)  # type: ignore[arg-type]

    await run_in_threadpool(work)
    return RedirectResponse(f"/cases/{case_id}#outreach", status_code=303)


@router.post("/cases/{case_id}/signals/{signal_id}/acknowledge")
async def acknowledge(request: Request, visit: Auth, case_id: int, signal_id: int) -> Response:
    await forms.read(request, visit)
    clinic = clinic_of(request)

    def work() -> None:
        with clinic.db.write() as s:
            signals.acknowledge(s, visit.actor, case_id, signal_id)

    await run_in_threadpool(work)
    return RedirectResponse(f"/cases/{case_id}#client-voice", status_code=303)


def _opt_out_language(request: Request, token: str) -> str:
    clinic = clinic_of(request)
    with clinic.db.read() as s:
        return delivery.opt_out_language(s, clinic.box, token)


@router.get("/opt-out/{token}")
def opt_out_page(request: Request, token: str) -> HTMLResponse:
    """A confirmation page: a mail scanner that fetches the link records nothing."""
    lang = _opt_out_language(request, token)
    return render(request, "opt_out.html", w=client_text.words(lang), lang=lang, done=False,
                  token=token)


@router.post("/opt-out/{token}")
def opt_out(request: Request, token: str) -> HTMLResponse:
    clinic = clinic_of(request)
    lang = _opt_out_language(request, token)
    with clinic.db.write() as s:
        delivery.opt_out(s, token, now=clinic.clock())
    return render(request, "opt_out.html", w=client_text.words(lang), lang=lang, done=True,
                  token=token)


@router.get("/admin/safety")
def safety_page(request: Request, visit: Auth) -> HTMLResponse:
    require_role(visit.actor, "admin")
    with clinic_of(request).db.read() as s:
        texts = {lang: signals.safety_text(s, lang) for lang in client_text.LANGUAGES}
    defaults = {lang: client_text.words(lang)["safety_default"]
                for lang in client_text.LANGUAGES}
    return render(request, "admin_safety.html", texts=texts, defaults=defaults,
                  names=delivery.LANGUAGES)


@router.post("/admin/safety")
async def save_safety(request: Request, visit: Auth) -> Response:
    require_role(visit.actor, "admin")
    form = await forms.read(request, visit)
    language = forms.text(form, "language", 10)
    text = forms.text(form, "text", 4000)
    clinic = clinic_of(request)

    def work() -> None:
        with clinic.db.write() as s:
            signals.set_safety_text(s, visit.actor, language, text)

    await run_in_threadpool(work)
    return RedirectResponse("/admin/safety", status_code=303)

