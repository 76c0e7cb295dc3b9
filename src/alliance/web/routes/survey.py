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

from alliance.errors import AuthError, InputError, InstrumentError, LinkGone, ScoringError
from alliance.instruments import Instrument
from alliance.store import audit, cases, surveys
from alliance.store.actors import get_case
from alliance.store.tokens import same
from alliance.web import forms
from alliance.web.deps import clinic_of, record
from alliance.web.rendering import render, templates
from alliance.web.security import (
    SURVEY_COOKIE,
    Visit,
    authenticate,
    cookie_options,
    forwarded_https,
    survey_csrf,
)

router = APIRouter()
Auth = Annotated[Visit, Depends(authenticate)]


def _qr_svg(url: str) -> str:
    import segno

    return str(segno.make(url, error="m").svg_inline(scale=4, dark="#111", light="#fff"))


def _base_url(request: Request) -> str:
    # the configured public URL (required in production); the request's own address only
    # in development, where nobody else chooses the Host header
    public = clinic_of(request).settings.public_url
    if public:
        return public
    base = str(request.base_url).rstrip("/")
    return "https://" + base.partition("://")[2] if forwarded_https(request) else base


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
    url = f"{_base_url(request)}/s/{issued.token}"
    return render(request, "link.html", link=issued.link, url=url, qr=_qr_svg(url),
                  case_id=case_id, case_label=label, supersedes=issued.supersedes,
                  instrument=_instrument(request, issued.link.instrument_id))


@router.post("/cases/{case_id}/links/{link_id}/revoke")
async def revoke_link(request: Request, visit: Auth, case_id: int, link_id: int) -> Response:
    await forms.read(request, visit)

    def work() -> None:
        with request.app.state.db.write() as s:
            surveys.revoke_link(s, visit.actor, case_id, link_id)

    await run_in_threadpool(work)
    return RedirectResponse(f"/cases/{case_id}#links", status_code=303)


def blank_form(request: Request, inst: Instrument, rater: str) -> Markup:
    """The items of an unanswered form, rendered once per instrument and rater for the life
    of the app (whose catalogue is fixed at start-up): every client gets the same markup, and
    rendering it is most of the form page's cost."""
    cache: dict[tuple[str, str, str], Markup] = request.app.state.blank_forms
    key = (inst.id, inst.version, rater)
    if key not in cache:
        cache[key] = Markup(templates.env.get_template("_items.html").render(
            items=_items(inst, rater), answers={}))
    return cache[key]


def _items(inst: Instrument, rater: str) -> list[dict[str, Any]]:
    out = []
    for item in inst.items:
        scale = item.scale
        choices = []
        value = scale.min
        while value <= scale.max:
            choices.append((int(value) if float(value).is_integer() else value,
                            scale.anchors.get(value, "")))
            value += 1
        out.append({"id": item.id, "text": item.text_for(rater) or f"Item {item.id}",
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


def _message(request: Request, title: str, message: str, status: int) -> HTMLResponse:
    return render(request, "survey_message.html", status_code=status, title=title,
                  message=message)


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
    with clinic.db.write() as s:
        audit.record(s, None, "link.open", case_id=link.case_id, detail={"link": link.id})
    remaining = min(surveys.FORM_TTL, link.expires_at.replace(tzinfo=dt.UTC) - now
                    if link.expires_at.tzinfo is None else link.expires_at - now)
    response = RedirectResponse("/survey", status_code=303)
    response.set_cookie(SURVEY_COOKIE, token,
                        **cookie_options(max_age=max(1, int(remaining.total_seconds()))))
    return response


@router.get("/survey")
def survey_form(request: Request) -> HTMLResponse:
    form_token = request.cookies.get(SURVEY_COOKIE, "")
    if not form_token:
        return _message(request, "No questionnaire open",
                        "Please open the link you were sent.", 400)
    clinic = clinic_of(request)
    try:
        with clinic.db.read() as s:
            link = surveys.form_link(s, form_token, now=clinic.clock())
    except AuthError as exc:
        return _message(request, "Link not usable", str(exc), 410)
    inst = _instrument(request, link.instrument_id)
    return render(request, "survey.html", inst=inst,
                  items_html=blank_form(request, inst, link.rater),
                  instructions=inst.instructions.get(link.rater)
                  or inst.instructions.get("client", ""),
                  csrf=survey_csrf(form_token), error="", answers={})


@router.post("/survey")
async def survey_submit(request: Request) -> Response:
    form_token = request.cookies.get(SURVEY_COOKIE, "")
    data = await forms.read_public(request)
    if not form_token or not same(data.get("csrf") or "", survey_csrf(form_token)):
        return _message(request, "Cannot accept this form",
                        "This form has expired. Please open the link you were sent again.", 403)
    answers = {k[5:]: v for k, v in data.items() if k.startswith("item_")}

    clinic = clinic_of(request)

    def work() -> None:
        with clinic.db.write() as s:
            surveys.submit(s, form_token, answers, catalog=clinic.catalog, now=clinic.clock())

    try:
        await run_in_threadpool(work)
    except AuthError as exc:
        return _message(request, "Link not usable", str(exc), 410)
    except ScoringError as exc:
        with request.app.state.db.read() as s:
            link = surveys.form_link(s, form_token)
        inst = _instrument(request, link.instrument_id)
        return render(request, "survey.html", status_code=400, inst=inst,
                      items=_items(inst, link.rater),
                      instructions=inst.instructions.get(link.rater, ""),
                      csrf=survey_csrf(form_token), error=str(exc), answers=answers)
    response = RedirectResponse("/survey/thanks", status_code=303)
    response.delete_cookie(SURVEY_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return response


@router.get("/survey/thanks")
def survey_thanks(request: Request) -> HTMLResponse:
    return _message(request, "Thank you", "Your answers have been received and saved. You can "
                    "close this page.", 200)
