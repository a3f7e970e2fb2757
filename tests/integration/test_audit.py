"""The audit log page and API show who read or changed whose clinical data."""
from __future__ import annotations

from models.accounts import AuditEvent
from server.accounts import audit
from tests.support.clients import bearer


async def test_audit_log_lists_reads_and_changes_by_member(world, live_server):
    facilitator, member = world.users["facilitator"], world.users["member"]
    await audit.record(facilitator, "read", "measure_response", 42, member=member, detail="PHQ-9 trend")
    await audit.record(facilitator, "change", "formulation", world.enrollment.id, member=member)
    coordinator = await world.client("coordinator")
    page = await coordinator.get(f"/audit?member={member.id}")
    assert page.status_code == 200
    assert "measure_response #42" in page.text and "formulation" in page.text and "Fiona Facilitator" in page.text
    assert (await coordinator.get("/audit?page=zero")).status_code == 400
    async with bearer(live_server.url, world.tokens["coordinator"]) as api:
        events = (await api.get(f"/api/v1/audit?member={member.id}")).json()["events"]
    assert {e["subject"] for e in events} >= {"measure_response", "formulation"}
    assert all(e["member_id"] == member.id for e in events)


async def test_audit_actions_are_only_read_or_change(db):
    import pytest

    with pytest.raises(ValueError):
        await audit.record(None, "delete", "x")
    assert not await AuditEvent.filter(action="delete").exists()
