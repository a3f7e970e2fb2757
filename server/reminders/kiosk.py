"""Measures on a shared tablet: kiosk mode (issue 16).

A facilitator opens the kiosk on the tablet, which signs the facilitator out there: the
tablet then holds only a kiosk cookie, so a member handed it can reach nothing of anyone
else's. A member unlocks it with their own 4-digit code (shown on their portal while the
kiosk is open, or read out by the facilitator), answers their questionnaire due now, and
the tablet locks again. Codes are an HMAC of the kiosk and the enrollment, so each kiosk
has fresh ones; five wrong codes close the kiosk (4 digits are guessable, attempts are not
free). The answer is stored by the same `submit` as any other, safety item included.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import F

from models.accounts import User
from models.cohorts import Cohort, Enrollment, EnrollmentStatus
from models.reminders import KioskSession
from server.accounts import audit
from server.errors import BadRequest, Conflict, Forbidden
from server.measures import responses as measure_responses

COOKIE = "groupipt_kiosk"
OPEN_HOURS = 3  # a session's length, with time either side
UNLOCKED_MINUTES = 20  # a member who walks away: the tablet locks itself
MAX_WRONG_CODES = 5


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def member_code(secret: str, kiosk_id: int, enrollment_id: int, attempt: int = 0) -> str:
    message = f"kiosk:{kiosk_id}:{enrollment_id}" + (f":{attempt}" if attempt else "")
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:4], 'big') % 10000:04d}"


def kiosk_codes(secret: str, kiosk_id: int, enrollment_ids: list[int]) -> dict[int, str]:
    """Each answering member's code, distinct within the kiosk: in enrollment order, a code
    already given is drawn again, so two members never share one (and neither would be let
    in). Stable while the members stay: a member joining later only avoids earlier codes."""
    codes: dict[int, str] = {}
    taken: set[str] = set()
    for enrollment_id in sorted(enrollment_ids):
        attempt = 0
        while (code := member_code(secret, kiosk_id, enrollment_id, attempt)) in taken:
            attempt += 1
        codes[enrollment_id] = code
        taken.add(code)
    return codes


async def start_kiosk(cohort: Cohort, *, by: User, now: datetime) -> tuple[KioskSession, str]:
    token = secrets.token_urlsafe(32)
    kiosk = await KioskSession.create(cohort_id=cohort.id, started_by=by, token_hash=_hash(token), started_at=now,
                                      expires_at=now + timedelta(hours=OPEN_HOURS))
    await audit.record(by, "change", "kiosk", kiosk.id, detail=f"cohort {cohort.id}")
    return kiosk, token


async def kiosk_of(token: str | None, *, now: datetime) -> KioskSession | None:
    if not token:
        return None
    return await KioskSession.get_or_none(token_hash=_hash(token), ended_at=None, expires_at__gt=now)


async def open_kiosks(cohort_id: int, *, now: datetime) -> list[KioskSession]:
    return list(await KioskSession.filter(cohort_id=cohort_id, ended_at=None, expires_at__gt=now).order_by("id"))


async def end_kiosks(cohort_id: int, *, by: User, now: datetime) -> int:
    ended = await KioskSession.filter(cohort_id=cohort_id, ended_at=None).update(ended_at=now)
    if ended:
        await audit.record(by, "change", "kiosk", cohort_id, detail=f"{ended} kiosk(s) ended")
    return ended


async def _answering(cohort_id: int) -> list[Enrollment]:
    return list(await Enrollment.filter(cohort_id=cohort_id, status__in=list(measure_responses.ANSWERING))
                .prefetch_related("member", "cohort", "cohort__template").order_by("id"))


async def codes_for_staff(kiosk: KioskSession, secret: str) -> list[tuple[Enrollment, str]]:
    """Each member's code, for the facilitator to read out."""
    answering = await _answering(kiosk.cohort_id)
    codes = kiosk_codes(secret, kiosk.id, [e.id for e in answering])
    return [(e, codes[e.id]) for e in answering]


@dataclass(frozen=True, kw_only=True)
class MemberKioskCode:
    group: str
    code: str


async def codes_for_member(user: User, secret: str, *, now: datetime) -> list[MemberKioskCode]:
    """The member's own code for each kiosk open in their groups (shown on their portal)."""
    mine = await Enrollment.filter(member_id=user.id, status__in=list(measure_responses.ANSWERING)).select_related("cohort")
    if not mine:
        return []
    by_cohort = {e.cohort_id: e for e in mine}
    kiosks = await KioskSession.filter(cohort_id__in=list(by_cohort), ended_at=None, expires_at__gt=now).order_by("id")
    found = []
    for k in kiosks:
        mine_here = by_cohort[k.cohort_id]
        codes = kiosk_codes(secret, k.id, [e.id for e in await _answering(k.cohort_id)])
        found.append(MemberKioskCode(group=mine_here.cohort.public_title, code=codes[mine_here.id]))
    return found


async def unlock(kiosk: KioskSession, code: str, *, secret: str, now: datetime) -> Enrollment:
    code = (code or "").strip()
    answering = await _answering(kiosk.cohort_id)
    codes = kiosk_codes(secret, kiosk.id, [e.id for e in answering])
    matches = [e for e in answering if hmac.compare_digest(codes[e.id], code)] if len(code) == 4 and code.isdigit() else []
    if len(matches) != 1:
        await KioskSession.filter(id=kiosk.id).update(wrong_codes=F("wrong_codes") + 1)
        wrong = (await KioskSession.get(id=kiosk.id)).wrong_codes
        if wrong >= MAX_WRONG_CODES:
            await KioskSession.filter(id=kiosk.id).update(ended_at=now)
            raise Forbidden("This tablet is locked after too many wrong codes. Please ask your facilitator.")
        message = "That code is not right. Please check the code on your portal, or ask your facilitator."
        raise BadRequest(message, fields={"code": message})
    enrollment = matches[0]
    open_now = [d for d in await measure_responses.due_now(enrollment, now=now) if d.answered is None]
    if not open_now:
        raise Conflict("You have nothing to fill in right now. Thank you; please hand the tablet back.",
                       code="nothing_due")
    due = open_now[0]
    await KioskSession.filter(id=kiosk.id).update(member_id=enrollment.id, instrument=due.instrument.value,
                                                  occasion=due.occasion.key, unlocked_at=now)
    return enrollment


@dataclass(frozen=True, kw_only=True)
class Unlocked:
    enrollment: Enrollment
    instrument: str
    occasion: str


async def unlocked(kiosk: KioskSession, *, now: datetime) -> Unlocked | None:
    if kiosk.member_id is None or kiosk.unlocked_at is None:
        return None
    if now - kiosk.unlocked_at > timedelta(minutes=UNLOCKED_MINUTES):
        await lock(kiosk)
        return None
    enrollment = await Enrollment.get(id=kiosk.member_id).prefetch_related("member", "cohort", "cohort__template")
    return Unlocked(enrollment=enrollment, instrument=kiosk.instrument, occasion=kiosk.occasion)


async def lock(kiosk: KioskSession) -> None:
    await KioskSession.filter(id=kiosk.id).update(member_id=None, instrument="", occasion="", unlocked_at=None)


async def submit_on_kiosk(kiosk: KioskSession, form, *, now: datetime) -> tuple[Unlocked, measure_responses.Submission]:
    """The member's own answer, as if from their portal; the tablet locks again."""
    current = await unlocked(kiosk, now=now)
    if current is None:
        raise Conflict("The tablet locked itself. Please enter your code again.", code="kiosk_locked")
    if current.enrollment.status not in (EnrollmentStatus.ENROLLED, EnrollmentStatus.SCREENING):
        await lock(kiosk)
        raise Conflict("There is nothing to fill in for you here now.", code="nothing_due")
    submission = await measure_responses.submit(current.enrollment, current.instrument, form,
                                                by=current.enrollment.member, for_occasion=current.occasion, now=now)
    await lock(kiosk)
    return current, submission
