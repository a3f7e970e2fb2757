"""Indexes for lists at scale (issue 15): each cohort's next session and the clinic's next
ones, the people and calendar-links lists in their keyset order, a facilitator's cohorts."""
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0014_follow_ups')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Meeting',
            index=Index(fields=['cohort_id', 'kind', 'starts_at']),
        ),
        ops.AddIndex(
            model_name='Meeting',
            index=Index(fields=['kind', 'status', 'starts_at']),
        ),
        ops.AddIndex(
            model_name='User',
            index=Index(fields=['role', 'display_name', 'id']),
        ),
        ops.AddIndex(
            model_name='User',
            index=Index(fields=['display_name', 'id']),
        ),
        # The many-to-many table is Tortoise's own: its (cohorts_id, user_id) key serves a
        # cohort's facilitators, not a facilitator's cohorts.
        ops.RunSQL("CREATE INDEX IF NOT EXISTS idx_cohort_facilitators_user ON cohort_facilitators (user_id)",
                   reverse_sql="DROP INDEX IF EXISTS idx_cohort_facilitators_user"),
    ]
