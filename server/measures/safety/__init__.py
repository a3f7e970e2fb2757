"""Safety items: a PHQ-9 item 9 answer above 0 (or a disclosure in session) opens one; only a
risk check that documents contact with the member closes it.

Who sees them: the cohort's facilitators, the duty clinicians, the coordinators, and anyone
told about that item; never the member, other members, or the shared board display
(domain-ipt.md 5b: "a private facilitator alert", "a structured suicide risk assessment is
required"). Only clinicians record a risk check. An item 9 of 0 opens nothing and is never
described as "no risk". Who is told, and the escalations, are in server/measures/safety_alerts.py.

opening (answers and disclosures open items), reading (who sees what), risk_checks (the
assessment that closes them), member_help (what the member reads); this module is their
public surface.
"""

from server.measures.safety._entry import MAX_TEXT, says_something
from server.measures.safety.member_help import (
    WHO_WORDS,
    HelpText,
    crisis_help,
    member_message,
    member_zone,
    set_crisis_help,
)
from server.measures.safety.opening import (
    alert_settings,
    announce,
    configure,
    next_group_meeting,
    open_for_response,
    record_disclosure,
)
from server.measures.safety.reading import (
    attention_for,
    checks_of,
    duration_words,
    follow_ups,
    get_item,
    open_counts,
    open_item_count,
    open_items,
    open_items_by_id,
    timing,
)
from server.measures.safety.risk_checks import (
    ACTION_LABELS,
    CONTACT_LABELS,
    RISK_LABELS,
    THOUGHTS_LABELS,
    YES_NO_QUESTIONS,
    RiskCheckInput,
    close_with_check,
    parse_risk_check,
    record_risk_check,
    require_clinician,
)

__all__ = [
    "ACTION_LABELS",
    "CONTACT_LABELS",
    "MAX_TEXT",
    "RISK_LABELS",
    "THOUGHTS_LABELS",
    "WHO_WORDS",
    "YES_NO_QUESTIONS",
    "HelpText",
    "RiskCheckInput",
    "alert_settings",
    "announce",
    "attention_for",
    "checks_of",
    "close_with_check",
    "configure",
    "crisis_help",
    "duration_words",
    "follow_ups",
    "get_item",
    "member_message",
    "member_zone",
    "next_group_meeting",
    "open_counts",
    "open_for_response",
    "open_item_count",
    "open_items",
    "open_items_by_id",
    "parse_risk_check",
    "record_disclosure",
    "record_risk_check",
    "require_clinician",
    "says_something",
    "set_crisis_help",
    "timing",
]
