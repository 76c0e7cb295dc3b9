"""Survey links (issued by clinicians), the client's form, and paper entry.

The public side is three steps: ``GET /s/{token}`` moves the link token into a short-lived
``__Host-`` cookie and redirects to ``/survey`` (so it leaves the address bar and history);
``GET /survey`` shows the form; ``POST /survey`` stores the answers, consuming the link in
the same transaction, and redirects to a receipt.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from alliance.errors import (
    AuthError,
    InputError,
    InstrumentError,
    LinkGone,
    NotFound,
    ScoringError,
)
from alliance.instruments import Instrument
from alliance.store import audit, cases, signals, surveys
from alliance.store import delivery as contacts
from alliance.store.actors import get_case
from alliance.store.tokens import same
from alliance.web import client_text, forms
from alliance.web.deps import clinic_of, public_base, record
from alliance.web.rendering import render, templates
from alliance.web.security import (
    SURVEY_COOKIE,
    Visit,
    authenticate,
    cookie_options,
    survey_csrf,
)

router = APIRouter()
THANKS_COOKIE = "__Host-alliance-thanks"
Auth = Annotated[Visit, Depends(authenticate)]


def _qr_svg(url: str) -> str:
    import segno

    return str(segno.make(url, error="m").svg_inline(scale=4, dark="#111", light="#fff"))


def _instrument(request: Request, instrument_id: str) -> Instrument:
    try:
        return clinic_of(request).catalog[instrument_id]
    except InstrumentError as exc:
        raise InputError(str(exc)) from None


@router.post("/cases/{case_id}/links")
async def create_link(request: Request, visit: Auth, case_id: int) -> HTMLResponse:
    form = await forms.read(request, visit)
    instrument_id, rater = forms.measure(form.get("measure"))
    session_id = forms.integer(form, "session_id")
    member_id = forms.optional_integer(form, "member_id")
    clinic = clinic_of(request)

    def work() -> tuple[Any, str]:
        with clinic.db.write() as s:
            issued = surveys.create_link(
                s, visit.actor, case_id, session_id, instrument_id=instrument_id, rater=rater,
                member_id=member_id, ttl=clinic.settings.link_ttl, catalog=clinic.catalog)
            return issued, get_case(s, visit.actor, case_id).label

    issued, label = await run_in_threadpool(work)
    url = f"{public_base(request)}/s/{issued.token}"
    return render(request, "link.html", link=issued.link, url=url, qr=_qr_svg(url),
                  case_id=case_id, case_label=label, supersedes=issued.supersedes,
                  instrument=_instrument(request, issued.link.instrument_id))


@router.post("/cases/{case_id}/links/send")
async def send_link(request: Request, visit: Auth, case_id: int) -> Response:
    """Send now: a new link to one member by e-mail or SMS (the case page's button)."""
    form = await forms.read(request, visit)
    instrument_id, rater = forms.measure(form.get("measure"))
    session_id = forms.integer(form, "session_id")
    member_id = forms.optional_integer(form, "member_id")
    clinic = clinic_of(request)

    def work() -> str:
        return contacts.send_now(clinic.db, clinic.box, visit.actor, case_id, session_id,
                                 instrument_id=instrument_id, rater=rater, member_id=member_id,
                                 catalog=clinic.catalog, delivery=clinic.delivery,
                                 now=clinic.clock())

    await run_in_threadpool(work)
    return RedirectResponse(f"/cases/{case_id}#outreach", status_code=303)


@router.post("/cases/{case_id}/links/{link_id}/revoke")
async def revoke_link(request: Request, visit: Auth, case_id: int, link_id: int) -> Response:
    await forms.read(request, visit)

    def work() -> None:
        with request.app.state.db.write() as s:
            surveys.revoke_link(s, visit.actor, case_id, link_id)

    await run_in_threadpool(work)
    return RedirectResponse(f"/cases/{case_id}#links", status_code=303)


def blank_form(request: Request, inst: Instrument, rater: str,
               language: str | None = None) -> Markup:
    """The items of an unanswered form, rendered once per instrument, rater and language
    for the life of the app (whose catalogue is fixed at start-up): every client gets the
    same markup, and rendering it is most of the form page's cost."""
    cache: dict[tuple[str, ...], Markup] = request.app.state.blank_forms
    key = (inst.id, inst.version, rater, language or "")
    if key not in cache:
        cache[key] = Markup(templates.env.get_template("_items.html").render(
            items=_items(inst, rater, language), answers={}))
    return cache[key]


def _items(inst: Instrument, rater: str, language: str | None = None) -> list[dict[str, Any]]:
    """The items as the form shows them; in ``language`` when given (the instrument's own
    wording where it has no version in that language)."""
    wording = inst.wording(rater, language) if language and inst.has_text else None
    out = []
    for item in inst.items:
        scale = item.scale
        anchors = scale.anchors
        text = item.text_for(rater)
        if wording is not None:
            anchors = wording.item_anchors.get(item.id) or wording.anchors or anchors
            text = wording.text(item.id) or text
        choices = []
        value = scale.min
        while value <= scale.max:
            choices.append((int(value) if float(value).is_integer() else value,
                            anchors.get(value, "")))
            value += 1
        out.append({"id": item.id, "text": text or f"Item {item.id}",
                    "choices": choices, "subscale": item.subscale})
    return out


@router.get("/cases/{case_id}/paper")
def paper_form(request: Request, visit: Auth, case_id: int) -> HTMLResponse:
    # Query fields are read like form fields: "(therapist)" sends an empty member_id.
    query = dict(request.query_params)
    instrument_id, rater = forms.measure(query.get("measure"))
    session_id = forms.integer(query, "session_id")
    member_id = forms.optional_integer(query, "member_id")
    inst = _instrument(request, instrument_id)
    if rater == "therapist":
        member_id = None
    with clinic_of(request).db.read() as s:
        case = get_case(s, visit.actor, case_id, write=True)
        session = cases.get_session(s, case_id, session_id)
        members = cases.members(s, case_id)
        supersedes = surveys.answered(s, session_id, inst.id, rater, member_id)
    record(request, visit.actor, "paper.open", case_id=case_id,
           detail={"session": session_id, "instrument": inst.id, "rater": rater})
    return render(request, "paper.html", case=case, session=session, inst=inst, rater=rater,
                  member_id=member_id, members=members, items=_items(inst, rater),
                  supersedes=supersedes)


@router.post("/cases/{case_id}/paper")
async def paper_entry(request: Request, visit: Auth, case_id: int) -> Response:
    form = await forms.read(request, visit)
    instrument_id = forms.text(form, "instrument_id", 60)
    rater = forms.text(form, "rater", 20) or "client"
    session_id = forms.integer(form, "session_id")
    member_id = forms.optional_integer(form, "member_id")
    answers = {k[5:]: v for k, v in form.items() if k.startswith("item_")}
    clinic = clinic_of(request)

    def work() -> None:
        with clinic.db.write() as s:
            surveys.enter_paper(s, visit.actor, case_id, session_id, instrument_id=instrument_id,
                                rater=rater, member_id=member_id, answers=answers,
                                catalog=clinic.catalog)

    await run_in_threadpool(work)
    return RedirectResponse(f"/cases/{case_id}#sessions", status_code=303)


def _message(request: Request, title: str, message: str, status: int,
             lang: str = "en") -> HTMLResponse:
    return render(request, "survey_message.html", status_code=status, title=title,
                  message=message, lang=lang)


@router.get("/s/{token}")
def open_link(request: Request, token: str) -> Response:
    clinic = clinic_of(request)
    now = clinic.clock()
    try:
        with clinic.db.read() as s:
            link = surveys.open_link(s, token, now=now)
    except LinkGone as exc:
        return _message(request, "Link not usable", str(exc), 410)
    except AuthError as exc:
        return _message(request, "Link not usable", str(exc), 404)
    # group commit: the opens and submissions of many phones share one COMMIT under load
    clinic.db.write_grouped(lambda s: audit.record(s, None, "link.open", case_id=link.case_id,
                                                   detail={"link": link.id}))
    remaining = min(surveys.FORM_TTL, link.expires_at.replace(tzinfo=dt.UTC) - now
                    if link.expires_at.tzinfo is None else link.expires_at - now)
    response = RedirectResponse("/survey", status_code=303)
    response.set_cookie(SURVEY_COOKIE, token,
                        **cookie_options(max_age=max(1, int(remaining.total_seconds()))))
    return response


def _survey_page(request: Request, link: Any, lang: str, form_token: str, *,
                 error: str = "", answers: dict[str, Any] | None = None,
                 status: int = 200) -> HTMLResponse:
    inst = _instrument(request, link.instrument_id)
    wording = inst.wording(link.rater, lang) if inst.has_text else None
    instructions = (wording.instructions if wording is not None else
                    inst.instructions.get(link.rater) or inst.instructions.get("client", ""))
    shown = wording.language if wording is not None and wording.language else "en"
    items: dict[str, Any] = (
        {"items_html": blank_form(request, inst, link.rater, lang)} if answers is None else
        {"items": _items(inst, link.rater, lang)})
    return render(request, "survey.html", status_code=status, inst=inst, **items,
                  instructions=instructions, csrf=survey_csrf(form_token), error=error,
                  answers=answers or {}, w=client_text.words(lang), lang=lang,
                  form_lang=shown)


@router.get("/survey")
def survey_form(request: Request) -> HTMLResponse:
    form_token = request.cookies.get(SURVEY_COOKIE, "")
    if not form_token:
        w = client_text.words("en")
        return _message(request, w["no_form_title"], w["no_form"], 400)
    clinic = clinic_of(request)
    try:
        with clinic.db.read() as s:
            link = surveys.form_link(s, form_token, now=clinic.clock())
            lang = contacts.member_language(s, clinic.box, link.member_id)
    except AuthError as exc:
        return _message(request, "Link not usable", str(exc), 410)
    return _survey_page(request, link, lang, form_token)


@router.post("/survey")
async def survey_submit(request: Request) -> Response:
    form_token = request.cookies.get(SURVEY_COOKIE, "")
    data = await forms.read_public(request)
    if not form_token or not same(data.get("csrf") or "", survey_csrf(form_token)):
        w = client_text.words("en")
        return _message(request, w["unusable"], w["expired_form"], 403)
    answers = {k[5:]: v for k, v in data.items() if k.startswith("item_")}

    clinic = clinic_of(request)

    def work() -> None:
        clinic.db.write_grouped(lambda s: surveys.submit(s, form_token, answers,
                                                         catalog=clinic.catalog,
                                                         now=clinic.clock()))

    try:
        await run_in_threadpool(work)
    except AuthError as exc:
        return _message(request, "Link not usable", str(exc), 410)
    except ScoringError as exc:
        with clinic.db.read() as s:
            link = surveys.form_link(s, form_token)
            lang = contacts.member_language(s, clinic.box, link.member_id)
        return _survey_page(request, link, lang, form_token, error=str(exc),
                            answers=answers, status=400)
    response = RedirectResponse("/survey/thanks", status_code=303)
    response.delete_cookie(SURVEY_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    # The thank-you page and the client's message find the submission by the link's token,
    # for as long as the form itself would have lived.
    response.set_cookie(THANKS_COOKIE, form_token,
                        **cookie_options(max_age=int(signals.FEEDBACK_WINDOW.total_seconds())))
    return response


def _receipt(request: Request) -> tuple[signals.Receipt | None, str, str | None]:
    """The submission behind the thank-you cookie, the client's language and, after a risk
    answer, the clinic's safety text in that language."""
    token = request.cookies.get(THANKS_COOKIE, "")
    if not token:
        return None, "en", None
    clinic = clinic_of(request)
    with clinic.db.read() as s:
        try:
            receipt = signals.after_submit(s, token, now=clinic.clock())
        except (NotFound, LinkGone):
            return None, "en", None
        lang = contacts.member_language(s, clinic.box, receipt.member_id)
        safety = signals.safety_text(s, lang) if receipt.risk else None
    if receipt.risk and safety is None:
        safety = client_text.words(lang)["safety_default"]
    return receipt, lang, safety


@router.get("/survey/thanks")
def survey_thanks(request: Request) -> HTMLResponse:
    receipt, lang, safety = _receipt(request)
    return render(request, "survey_thanks.html", w=client_text.words(lang), lang=lang,
                  safety=safety, can_write=receipt is not None and not receipt.feedback_sent,
                  csrf=survey_csrf(request.cookies.get(THANKS_COOKIE, "")), error="")


@router.post("/survey/feedback")
async def survey_feedback(request: Request) -> Response:
    token = request.cookies.get(THANKS_COOKIE, "")
    data = await forms.read_public(request)
    if not token or not same(data.get("csrf") or "", survey_csrf(token)):
        w = client_text.words("en")
        return _message(request, w["unusable"], w["expired_form"], 403)
    clinic = clinic_of(request)

    def work() -> str:
        with clinic.db.write() as s:
            receipt = signals.after_submit(s, token, now=clinic.clock())
            signals.leave_feedback(s, clinic.box, token, data.get("message") or "",
                                   now=clinic.clock())
            return contacts.member_language(s, clinic.box, receipt.member_id)

    try:
        lang = await run_in_threadpool(work)
    except InputError as exc:
        receipt, lang, safety = _receipt(request)
        return render(request, "survey_thanks.html", status_code=400,
                      w=client_text.words(lang), lang=lang, safety=safety,
                      can_write=receipt is not None, csrf=survey_csrf(token), error=str(exc))
    except (NotFound, LinkGone) as exc:
        return _message(request, "Link not usable", str(exc), 410)
    w = client_text.words(lang)
    return _message(request, w["voice_sent_title"], w["voice_sent"], 200, lang)
