"""Schedules, protocol templates and calendar feeds (issue 3)."""
from tests.integration.authz_rows import DENY, Row, any_user, coordinator_only, own_member, staff_any_cohort, staff_only, staff_or_supervisor


TEMPLATE = {"template_id": lambda w: w.template.id}

ROWS = [
    # protocol templates
    staff_any_cohort("GET", "/templates"),
    coordinator_only("GET", "/templates/new"),
    coordinator_only("POST", "/templates/new", note="an empty form is refused with 400"),
    staff_any_cohort("GET", "/templates/{template_id}", params=TEMPLATE),
    coordinator_only("GET", "/templates/{template_id}/edit", params=TEMPLATE),
    coordinator_only("POST", "/templates/{template_id}/edit", params=TEMPLATE),
    # cohorts
    coordinator_only("GET", "/cohorts/new"),
    coordinator_only("POST", "/cohorts/new"),
    coordinator_only("GET", "/cohorts/new/preview"),
    staff_or_supervisor("GET", "/cohorts/{cohort_id}"),
    coordinator_only("GET", "/cohorts/{cohort_id}/edit", note="409: an active cohort is no longer a draft"),
    coordinator_only("POST", "/cohorts/{cohort_id}/edit"),
    coordinator_only("POST", "/cohorts/{cohort_id}/activate", note="409: already active"),
    coordinator_only("POST", "/cohorts/{cohort_id}/status"),
    coordinator_only("POST", "/cohorts/{cohort_id}/shift", note="cadences is required: 400"),
    coordinator_only("POST", "/cohorts/{cohort_id}/skip-dates"),
    # single meetings
    staff_or_supervisor("GET", "/meetings/{meeting_id}"),
    coordinator_only("POST", "/meetings/{meeting_id}/reschedule"),
    coordinator_only("POST", "/meetings/{meeting_id}/cancel", note="needs confirm=yes: 400"),
    coordinator_only("POST", "/meetings/{meeting_id}/make-up"),
    coordinator_only("GET", "/outbox"),
    # JSON API
    staff_any_cohort("GET", "/api/v1/templates"),
    coordinator_only("POST", "/api/v1/templates", json=True, body={}),
    staff_any_cohort("GET", "/api/v1/templates/{template_id}", params=TEMPLATE),
    coordinator_only("PUT", "/api/v1/templates/{template_id}", params=TEMPLATE, json=True, body={}),
    coordinator_only("POST", "/api/v1/schedule/preview", json=True, body={}),
    coordinator_only("POST", "/api/v1/cohorts", json=True, body={}),
    coordinator_only("PUT", "/api/v1/cohorts/{cohort_id}/draft", json=True, body={}),
    coordinator_only("POST", "/api/v1/cohorts/{cohort_id}/activate", json=True, body={}),
    staff_or_supervisor("GET", "/api/v1/cohorts/{cohort_id}/meetings"),
    coordinator_only("POST", "/api/v1/cohorts/{cohort_id}/shift", json=True, body={}),
    coordinator_only("POST", "/api/v1/cohorts/{cohort_id}/skip-dates", json=True, body={}),
    coordinator_only("POST", "/api/v1/meetings/{meeting_id}/reschedule", json=True, body={}),
    coordinator_only("POST", "/api/v1/meetings/{meeting_id}/cancel", json=True, body={}),
    coordinator_only("POST", "/api/v1/meetings/{meeting_id}/make-up", json=True, body={}),
    coordinator_only("GET", "/api/v1/outbox"),
    # calendar feeds
    Row("GET", "/feeds/{token}.ics", anon=DENY, member=DENY, other_member=DENY, other_facilitator=DENY,
        facilitator=DENY, coordinator=DENY, note="an unknown token is a bare 404 for everyone"),
    any_user("GET", "/account/calendar"),
    any_user("POST", "/account/calendar", note="coordinators get 409: they use cohort feeds"),
    any_user("POST", "/account/calendar/revoke"),
    coordinator_only("GET", "/calendar-feeds"),
    coordinator_only("POST", "/calendar-feeds/{user_id}/revoke"),
    staff_only("GET", "/cohorts/{cohort_id}/calendar.ics"),
    own_member("GET", "/meetings/{meeting_id}.ics", note="a member downloads their own cohort's group session"),
    any_user("GET", "/api/v1/me/calendar-feed"),
    any_user("POST", "/api/v1/me/calendar-feed", json=True, body={}),
    any_user("DELETE", "/api/v1/me/calendar-feed"),
    coordinator_only("GET", "/api/v1/calendar-feeds"),
    coordinator_only("DELETE", "/api/v1/users/{user_id}/calendar-feed"),
]
