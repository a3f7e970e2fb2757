"""Tortoise ORM models: persistence only, no HTTP here."""

MODEL_MODULES = [
    "models.accounts",
    "models.cohorts",
    "models.clinical",
    "models.board",
    "models.closure",
    "models.mail",
    "models.reminders",
    "models.supervision",
    "models.fidelity",
]
