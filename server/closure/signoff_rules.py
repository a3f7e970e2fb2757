"""Sign-off of closure summaries as rules over plain values (issue 17): which status a step
starts from, and, when it may not be taken, the sentence that says why.

    draft ──submit──> awaiting_signoff ──approve──> approved ──finalize──> finalized
      ^  returned <──return (comment)──┘                │
      │     └──submit (after editing)──> awaiting_signoff
      └──────withdraw (awaiting_signoff or approved)────┘

Where the cohort does not require sign-off, finalizing goes straight from draft (or from a
version returned or approved before the requirement was lifted). While a version awaits
sign-off or is approved its content is frozen: editing it is refused, and the facilitator
withdraws it (back to draft, the approval void) to change it. Each function answers None
when the step may be taken.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from models.closure import SummaryStatus as S

EDITABLE = (S.DRAFT, S.RETURNED)
MAX_COMMENT = 2000


def content_hash(content: Mapping[str, Any]) -> str:
    """The SHA-256 of the content, independent of key order and of how it was stored."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def edit_refusal(status: S, version: int) -> str | None:
    if status in EDITABLE:
        return None
    if status == S.AWAITING_SIGNOFF:
        return (f"Version {version} is awaiting a supervisor's sign-off, so it cannot change. "
                "Withdraw it from sign-off to edit it.")
    if status == S.APPROVED:
        return (f"Version {version} was approved as it stands, so it cannot change. Finalize it, or "
                "withdraw it (the approval is then void and it needs sign-off again) to edit it.")
    return f"Version {version} is finalized and cannot change. Make an amendment instead."


def submit_refusal(status: S, version: int, *, required: bool) -> str | None:
    if not required:
        return "This cohort does not require sign-off: finalize the summary when it is ready."
    if status in EDITABLE:
        return None
    if status == S.AWAITING_SIGNOFF:
        return f"Version {version} is already awaiting sign-off."
    if status == S.APPROVED:
        return f"Version {version} is already approved; finalize it."
    return f"Version {version} is finalized."


def review_refusal(status: S, version: int) -> str | None:
    """Approving or returning: only a version awaiting sign-off."""
    if status == S.AWAITING_SIGNOFF:
        return None
    return {
        S.DRAFT: f"Version {version} is not awaiting sign-off (its facilitator withdrew it, or has not submitted it).",
        S.RETURNED: f"Version {version} was already returned to its facilitator.",
        S.APPROVED: f"Version {version} was already approved.",
        S.FINALIZED: f"Version {version} is finalized.",
    }[status]


def withdraw_refusal(status: S, version: int) -> str | None:
    if status in (S.AWAITING_SIGNOFF, S.APPROVED):
        return None
    if status == S.FINALIZED:
        return f"Version {version} is finalized. Make an amendment instead."
    return f"Version {version} is not awaiting sign-off; edit it as it is."


def finalize_refusal(status: S, version: int, *, required: bool) -> str | None:
    if status == S.FINALIZED:
        return f"Version {version} is already finalized."
    if status == S.APPROVED:
        return None
    if status == S.AWAITING_SIGNOFF:
        return (f"Version {version} is awaiting a supervisor's sign-off. It can be finalized and given to "
                "the member once a supervisor has approved it.")
    if not required:
        return None
    if status == S.RETURNED:
        return (f"Version {version} was returned by a supervisor. Make the changes asked for and submit it "
                "for sign-off again; it can be finalized once approved.")
    return (f"This cohort requires a supervisor's sign-off: submit version {version} for sign-off. "
            "It can be finalized and given to the member once approved.")


def finalizable(*, required: bool) -> tuple[S, ...]:
    """The statuses a finalize may start from (the conditional UPDATE's filter)."""
    return (S.APPROVED,) if required else (S.DRAFT, S.RETURNED, S.APPROVED)


def comment_problem(comment: str) -> str | None:
    if not comment.strip():
        return "Say what needs to change: returning a summary needs a comment."
    if len(comment) > MAX_COMMENT:
        return f"Keep the comment under {MAX_COMMENT} characters (it has {len(comment)})."
    return None
