"""Programme outcomes (issue 17): per cohort, facilitator, protocol template or quarter,
the members enrolled, started, completed and dropped out, attendance, response, remission
and change in PHQ-9 and GAD-7, for coordinators and supervisors.

figures  what a member's episode counts as, the sums over a group, and suppression (pure)
loading  the cohorts in scope and their members' episodes, in a fixed number of queries
report   scope (who sees which cohorts), filters and grouping
export   the figures without names: CSV and JSON, pseudonymous labels
charts   accessible SVG bar charts (pure)
"""
from server.programme.figures import MINIMUM_PEOPLE, SUPPRESSION_RULE, Figures, Group, MemberFacts, figures_of
from server.programme.report import (
    GROUPING_LABELS,
    Choices,
    Filters,
    Grouping,
    Report,
    Scope,
    check_filters,
    choices_for,
    programme_report,
    scope_of,
)

__all__ = [
    "GROUPING_LABELS", "MINIMUM_PEOPLE", "SUPPRESSION_RULE", "Choices", "Figures", "Filters", "Group", "Grouping",
    "MemberFacts", "Report", "Scope", "check_filters", "choices_for", "figures_of", "programme_report", "scope_of",
]
