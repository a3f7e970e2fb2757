"""Importing members from a CSV file: a full preview first, then all-or-nothing.

The file needs a header row with ``name`` and ``email`` columns; an optional ``status``
column takes enrolled (the default), screening or invited. A row that enrolls needs the
member's consent in ``consent_at`` (a date, or a date and time in the cohort's zone) and
``consent_method`` (signed_form, verbal_in_person, phone, video, online) columns, with an
optional ``consent_version`` (default: the cohort's group agreement), unless the protocol
says otherwise. Every row gets an outcome in the
preview; any row-level error (bad e-mail, duplicate in the file, already in the cohort, a
staff address, a missing name, and, when chosen, over capacity) stops the whole import, and
the import itself runs in one transaction that re-checks everything under the cohort lock.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from models.accounts import LinkPurpose, Role, User
from models.cohorts import Cohort, Enrollment, EnrollmentStatus, ProtocolTemplate
from server import accounts, clock
from server.accounts import audit
from server.enrollment.capacity import enrolled_count, late_join_state, size_warnings
from server.enrollment.consent import CONSENT_PARTS, ConsentGiven, _apply_consent, parse_consent
from server.enrollment.transitions import OPEN_COHORT, STATUS_LABELS, _locked_cohort, _transition, changing
from server.errors import BadRequest, Conflict, NotFound

S = EnrollmentStatus
MAX_ROWS = 5000
NAME_HEADERS = ("name", "full name", "full_name", "display name", "display_name")
EMAIL_HEADERS = ("email", "e-mail", "email address", "e-mail address")
ROW_STATUSES = {"": S.ENROLLED, "enrolled": S.ENROLLED, "screening": S.SCREENING, "invited": S.INVITED}
CONSENT_HEADERS = ("consent_at", "consent_method", "consent_version")


@dataclass
class RowResult:
    line: int
    name: str
    email: str
    status: EnrollmentStatus | None = None
    outcome: str = ""
    errors: list[str] = field(default_factory=list)
    existing_account: bool = False
    consent_cells: dict[str, str] = field(default_factory=dict)
    consent: ConsentGiven | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class ImportPlan:
    cohort: Cohort
    rows: list[RowResult]
    capacity_left: int
    over_capacity_is_error: bool
    warnings: list[str] = field(default_factory=list)
    imported: bool = False
    invitations: dict[str, str] = field(default_factory=dict)  # email -> invitation path

    @property
    def errors(self) -> list[RowResult]:
        return [r for r in self.rows if r.errors]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.errors

    def counts(self) -> dict[str, int]:
        out = {"rows": len(self.rows), "errors": len(self.errors)}
        for r in self.rows:
            if r.ok and r.status:
                out[r.status.value] = out.get(r.status.value, 0) + 1
        return out


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("The file is not UTF-8 text. Save it as 'CSV UTF-8' and try again.",
                         fields={"file": "Not UTF-8."}) from None


def parse_rows(text: str) -> list[RowResult]:
    """Read the CSV text into rows (line numbers count the header as line 1)."""
    if not text.strip():
        raise BadRequest("The file is empty.", fields={"file": "Empty."})
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = [h.strip().casefold() for h in next(reader)]
    except (StopIteration, csv.Error):
        raise BadRequest("The file has no header row.", fields={"file": "No header."}) from None
    name_col = next((header.index(h) for h in NAME_HEADERS if h in header), None)
    email_col = next((header.index(h) for h in EMAIL_HEADERS if h in header), None)
    status_col = header.index("status") if "status" in header else None
    consent_cols = {name: header.index(name) for name in CONSENT_HEADERS if name in header}
    if name_col is None or email_col is None:
        raise BadRequest(
            "The first row must name the columns, with at least 'name' and 'email'.",
            fields={"file": "Missing name or email column."},
        )
    rows: list[RowResult] = []
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= MAX_ROWS:
                raise BadRequest(f"The file has more than {MAX_ROWS} rows; split it up.", fields={"file": "Too many rows."})
            line = reader.line_num

            def cell(col: int | None) -> str:
                return record[col].strip() if col is not None and col < len(record) else ""

            row = RowResult(line=line, name=cell(name_col), email=cell(email_col),
                            consent_cells={name: cell(col) for name, col in consent_cols.items()})
            raw_status = cell(status_col).casefold()
            if raw_status not in ROW_STATUSES:
                row.errors.append(f"status {raw_status!r} is not enrolled, screening or invited")
            else:
                row.status = ROW_STATUSES[raw_status]
            rows.append(row)
    except csv.Error as exc:
        raise BadRequest(f"Line {reader.line_num} could not be read as CSV: {exc}.", fields={"file": "Not CSV."}) from None
    if not rows:
        raise BadRequest("The file has a header but no rows.", fields={"file": "No rows."})
    return rows


async def _check(
    cohort: Cohort, template: ProtocolTemplate, rows: list[RowResult], *, over_capacity_is_error: bool,
    late_override: str, by: User, now: datetime,
) -> ImportPlan:
    seen: dict[str, int] = {}
    for row in rows:
        if not row.name:
            row.errors.append("name is missing")
        elif len(row.name) > 120:
            row.errors.append("name is longer than 120 characters")
        try:
            row.email = accounts.normalize_email(row.email)
        except BadRequest:
            row.errors.append(f"{row.email!r} is not an e-mail address" if row.email else "e-mail is missing")
            continue
        if row.email in seen:
            row.errors.append(f"duplicate of line {seen[row.email]}")
        else:
            seen[row.email] = row.line
    # Two queries for the whole file, whatever its length.
    users_by_email = {u.email: u for u in await User.filter(email__in=list(seen))}
    enrolled_here = {
        e.member.email: e for e in await Enrollment.filter(cohort_id=cohort.id, member__email__in=list(seen)).select_related("member")
    }
    left = max(cohort.capacity - await enrolled_count(cohort.id), 0)
    capacity_left = left
    late = await late_join_state(cohort, template, now)
    late_blocked = not late.allowed and not (by.role == Role.COORDINATOR and late_override)
    zone = ZoneInfo(cohort.time_zone)
    for row in rows:
        try:
            row.consent = parse_consent(row.consent_cells, zone, now=now)
        except BadRequest as exc:
            row.errors.append(exc.message[0].lower() + exc.message[1:].rstrip("."))
    for row in rows:
        account = users_by_email.get(row.email)
        if account is not None:
            row.existing_account = True
            if account.role != Role.MEMBER:
                row.errors.append("this address belongs to a staff account")
        existing = enrolled_here.get(row.email)
        if existing is not None:
            row.errors.append(f"already in this cohort ({STATUS_LABELS[existing.status].lower()})")
        if row.errors or row.status is None:
            continue
        if row.status == S.ENROLLED:
            if late_blocked:
                row.errors.append(late.refusal())
                continue
            missing = _consent_missing(row.consent, cohort) if template.consent_required else []
            if missing:
                row.errors.append(
                    "consent is not recorded: " + ", ".join(f"{CONSENT_PARTS[m]} ({m})" for m in missing)
                    + " missing; add the consent columns, or import as screening"
                )
                continue
            if left > 0:
                left -= 1
            elif over_capacity_is_error:
                row.errors.append(f"over capacity: the cohort has {cohort.capacity} places")
                continue
            else:
                row.status = S.WAITLISTED
        verb = "existing account" if row.existing_account else "new account, invitation link"
        row.outcome = f"{STATUS_LABELS[row.status]} ({verb})"
        if row.status == S.WAITLISTED:
            row.outcome = f"Waitlisted: over capacity ({verb})"
    return ImportPlan(cohort=cohort, rows=rows, capacity_left=capacity_left,
                      over_capacity_is_error=over_capacity_is_error)


def _consent_missing(consent: ConsentGiven | None, cohort: Cohort) -> list[str]:
    consent = consent or ConsentGiven()
    values = {"consent_at": consent.at, "consent_method": consent.method,
              "consent_version": consent.version or cohort.group_agreement_version}
    return [name for name, value in values.items() if not value]


async def preview(
    cohort_id: int, text: str, *, by: User, over_capacity_is_error: bool = False,
    late_override: str = "", now: datetime | None = None,
) -> ImportPlan:
    now = now or clock.now()
    cohort = await Cohort.get_or_none(id=cohort_id).select_related("template")
    if cohort is None:
        raise NotFound("There is no such cohort.")
    if cohort.status not in OPEN_COHORT:
        raise Conflict(f"{cohort.name} is {cohort.status.value}; nobody can be enrolled.")
    rows = parse_rows(text)
    return await _check(cohort, cohort.template, rows, over_capacity_is_error=over_capacity_is_error,
                        late_override=late_override, by=by, now=now)


async def run_import(
    cohort_id: int, text: str, *, by: User, over_capacity_is_error: bool = False,
    late_override: str = "", now: datetime | None = None,
) -> ImportPlan:
    """Check again under the cohort lock and write every row, or nothing at all."""
    now = now or clock.now()
    rows = parse_rows(text)
    async with changing():
        cohort, template = await _locked_cohort(cohort_id)
        if cohort.status not in OPEN_COHORT:
            raise Conflict(f"{cohort.name} is {cohort.status.value}; nobody can be enrolled.")
        plan = await _check(cohort, template, rows, over_capacity_is_error=over_capacity_is_error,
                            late_override=late_override, by=by, now=now)
        if not plan.ok:
            return plan  # nothing has been written in this transaction
        users_by_email = {u.email: u for u in await User.filter(email__in=[r.email for r in rows])}
        for row in plan.rows:
            member = users_by_email.get(row.email)
            if member is None:
                member = await User.create(email=row.email, display_name=row.name, role=Role.MEMBER)
            if not member.password_hash:
                plan.invitations[row.email] = await accounts.issue_link(LinkPurpose.INVITATION, user=member, created_by=by)
            enrollment = Enrollment(cohort=cohort, member=member, status=row.status)
            _apply_consent(enrollment, row.consent, cohort)
            if row.status == S.WAITLISTED:
                enrollment.waitlisted_at = now
            if row.status in (S.ENROLLED, S.WAITLISTED) and late_override:
                late = await late_join_state(cohort, template, now)
                if not late.allowed:
                    enrollment.late_join_reason = late_override[:500]
            await enrollment.save()
            enrollment.status = None
            await _transition(enrollment, row.status, by=by, reason=f"CSV import, line {row.line}", now=now)
        plan.imported = True
        plan.warnings = size_warnings(cohort, template, await enrolled_count(cohort.id))
    await audit.record(by, "change", "enrollment_import", cohort.id, detail=f"{len(plan.rows)} rows")
    return plan
