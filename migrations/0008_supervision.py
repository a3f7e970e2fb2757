"""Supervision (issue 17): who supervises whom, the session checklist, and the sign-off
statuses of closure summaries.

On SQLite, Tortoise alters the status column by rebuilding `closure_summaries`, and the
rebuilt table lacks the UNIQUE on (enrollment_id, version) that the model and PostgreSQL
have (as 0002 once did to `boards`, see 0003). `keep_one_version_number` puts it back as a
unique index, so two saves of a summary cannot both become version N.
"""
from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.closure import SummaryStatus
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

INDEX = "closure_summaries_enrollment_id_version_key"


async def keep_one_version_number(apps: Any, schema_editor: Any) -> None:
    db = schema_editor.client
    if db.capabilities.dialect == "sqlite":
        await db.execute_script(
            f'CREATE UNIQUE INDEX IF NOT EXISTS "{INDEX}" ON "closure_summaries" ("enrollment_id", "version")')


async def drop_the_index(apps: Any, schema_editor: Any) -> None:
    db = schema_editor.client
    if db.capabilities.dialect == "sqlite":
        await db.execute_script(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [('models', '0007_reminders')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SessionChecklist',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('meeting', fields.OneToOneField('models.Meeting', source_field='meeting_id', db_constraint=True, to_field='id', related_name='checklist', on_delete=OnDelete.CASCADE)),
                ('checklist', fields.CharField(max_length=64)),
                ('items', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('rating', fields.IntField(null=True)),
                ('note', fields.TextField(default='', unique=False)),
                ('submitted_by', fields.ForeignKeyField('models.User', source_field='submitted_by_id', null=True, db_constraint=True, to_field='id', related_name='checklists_submitted', on_delete=OnDelete.SET_NULL)),
                ('submitted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'session_checklists', 'app': 'models', 'pk_attr': 'id', 'table_description': "One meeting's checklist, as its facilitator answered it."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Supervision',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('supervisor', fields.ForeignKeyField('models.User', source_field='supervisor_id', db_constraint=True, to_field='id', related_name='supervisees', on_delete=OnDelete.CASCADE)),
                ('facilitator', fields.ForeignKeyField('models.User', source_field='facilitator_id', db_constraint=True, to_field='id', related_name='supervisors', on_delete=OnDelete.CASCADE)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='supervisions_set', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'supervisions', 'app': 'models', 'unique_together': (('supervisor', 'facilitator'),), 'pk_attr': 'id', 'table_description': "`supervisor` supervises `facilitator`: sees that facilitator's cohorts, read-only"},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='ClosureSummary',
            name='status',
            field=fields.CharEnumField(default=SummaryStatus.DRAFT, description='DRAFT: draft\nAWAITING_SIGNOFF: awaiting_signoff\nRETURNED: returned\nAPPROVED: approved\nFINALIZED: finalized', enum_type=SummaryStatus, max_length=16),
        ),
        ops.RunPython(keep_one_version_number, drop_the_index),
    ]
