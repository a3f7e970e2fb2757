"""Self-report measures and the safety work they trigger.

Pure: instruments (PHQ-9, GAD-7 items and scoring), occasions (when each is due), outcomes,
charts. Database: responses (recording and reading answers), progress (a member's measures
page), safety (a package: opening safety items, who sees them, the risk checks that close
them, what the member reads), safety_alerts (notices, escalation and the sweep),
safety_people (who is told).
"""
