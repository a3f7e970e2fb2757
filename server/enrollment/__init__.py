"""Members in cohorts: enrolling, screening, consent and transfers (service), enrolling a
list at once (csv_import), and the intake record: problem area, inventory, goals (intake)."""
