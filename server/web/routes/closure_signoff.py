"""Sign-off pages of closure summaries (server.closure.signoff): whether a cohort requires it,
submit and withdraw (the cohort's facilitators), approve and return with a comment (a
clinician supervising one of its facilitators, against the version they read), and the
queue at /supervision/sign-off. Who may do what is in `server.web.routes.closure`."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.accounts import Role
from server import clock, closure
from server.accounts import access
from server.closure import signoff
from server.errors import BadRequest, Forbidden
from server.web import auth
from server.web.forms import form_data
from server.web.routes.closure import reviewable_row, submit_and_redirect, view_context, writable_row
from server.web.templating import render


@auth.requires(Role.COORDINATOR)
async def cohort_signoff_setting(request: Request) -> Response:
    """Whether the cohort's summaries need sign-off, at any stage of the cohort (the cohort
    form edits only drafts). Versions already submitted or approved keep their status."""
    user = auth.user_of(request)
    cohort = await access.staff_cohort(user, request.path_params["cohort_id"])
    form = await form_data(request)
    await signoff.set_requirement(cohort, signoff.parse_requirement(form.get("requires_signoff")), by=user)
    return RedirectResponse(f"/cohorts/{cohort.id}/summaries?signoff=saved", status_code=303)


@auth.requires(Role.FACILITATOR)
async def submit_summary(request: Request) -> Response:
    user = auth.user_of(request)
    row = await writable_row(user, request.path_params["summary_id"])
    return await submit_and_redirect(request, row, user)


@auth.requires(Role.FACILITATOR)
async def withdraw_summary(request: Request) -> Response:
    user = auth.user_of(request)
    row = await writable_row(user, request.path_params["summary_id"])
    await signoff.withdraw(row, user, now=clock.now())
    return RedirectResponse(f"/summaries/{row.id}/edit", status_code=303)


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def approve_summary(request: Request) -> Response:
    user = auth.user_of(request)
    row = await reviewable_row(user, request.path_params["summary_id"])
    form = await form_data(request)
    await signoff.approve(row, user, now=clock.now(), content_hash=_read_hash(form))
    return RedirectResponse(f"/summaries/{row.id}?done=approved", status_code=303)


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def return_summary(request: Request) -> Response:
    user = auth.user_of(request)
    row = await reviewable_row(user, request.path_params["summary_id"])
    form = await form_data(request)
    comment = form.get("comment") or ""
    try:
        await signoff.return_for_changes(row, user, comment, now=clock.now(), content_hash=_read_hash(form))
    except BadRequest as exc:
        if exc.code != "comment":
            raise
        versions = await closure.versions_of(row.enrollment)
        context = await view_context(request, row, user, versions, return_error=exc.message, comment=comment)
        return render(request, "closure/view.html", context, status_code=400)
    return RedirectResponse(f"/summaries/{row.id}?done=returned", status_code=303)


def _read_hash(form: Any) -> str:
    # The page sends the hash of the version the supervisor read; a form without one is refused
    # rather than approving whatever the version holds now.
    digest = (form.get("content_hash") or "").strip()
    if not digest:
        raise BadRequest("Open the summary and sign it off from its page.", fields={"content_hash": "Required."})
    return digest


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def signoff_list(request: Request) -> Response:
    user = auth.user_of(request)
    if not user.is_clinician:
        raise Forbidden("Sign-off is a clinician's: you are not marked as one.")
    rows = await signoff.awaiting_signoff(user)
    return render(request, "closure/signoff_list.html", {"rows": rows})


routes = [
    Route("/cohorts/{cohort_id:id}/summaries/signoff", cohort_signoff_setting, methods=["POST"]),
    Route("/summaries/{summary_id:id}/submit", submit_summary, methods=["POST"]),
    Route("/summaries/{summary_id:id}/withdraw", withdraw_summary, methods=["POST"]),
    Route("/summaries/{summary_id:id}/approve", approve_summary, methods=["POST"]),
    Route("/summaries/{summary_id:id}/return", return_summary, methods=["POST"]),
    Route("/supervision/sign-off", signoff_list, methods=["GET"]),
]
