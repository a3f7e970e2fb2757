"""Supervisor sign-off of closure summaries (issue 17): the sign-off log, the hash of the
content submitted, and whether a template or a cohort requires sign-off.

On SQLite, adding `submitted_hash` rebuilds `closure_summaries` without its UNIQUE
(enrollment_id, version), which PostgreSQL keeps (as 0002 did to `boards`, see 0003); the
last step restores it as a unique index. Two versions with one number cannot exist yet, as
the constraint held until this migration.
"""
from __future__ import annotations

from typing import Any

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from models.closure import SignoffAction

INDEX = "closure_summaries_enrollment_id_version_key"


async def one_row_per_version(apps: Any, schema_editor: Any) -> None:
    db = schema_editor.client
    if db.capabilities.dialect == "sqlite":
        await db.execute_script(
            f'CREATE UNIQUE INDEX IF NOT EXISTS "{INDEX}" ON "closure_summaries" ("enrollment_id", "version")')


async def back_to_0008(apps: Any, schema_editor: Any) -> None:
    db = schema_editor.client
    if db.capabilities.dialect == "sqlite":
        await db.execute_script(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [('models', '0012_restriction')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SignoffEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('summary', fields.ForeignKeyField('models.ClosureSummary', source_field='summary_id', db_constraint=True, to_field='id', related_name='signoff_events', on_delete=OnDelete.CASCADE)),
                ('version', fields.IntField()),
                ('content_hash', fields.CharField(max_length=64)),
                ('action', fields.CharEnumField(description='SUBMITTED: submitted\nRETURNED: returned\nAPPROVED: approved\nWITHDRAWN: withdrawn\nFINALIZED: finalized', enum_type=SignoffAction, max_length=16)),
                ('comment', fields.TextField(default='', unique=False)),
                ('by', fields.ForeignKeyField('models.User', source_field='by_id', null=True, db_constraint=True, to_field='id', related_name='signoff_events', on_delete=OnDelete.SET_NULL)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'closure_signoff_events', 'app': 'models', 'pk_attr': 'id', 'table_description': "One step of a summary version's sign-off, never changed or deleted: which version"},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ClosureSummary',
            name='submitted_hash',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.AddField(
            model_name='Cohort',
            name='requires_signoff',
            field=fields.BooleanField(null=True),
        ),
        ops.AddField(
            model_name='ProtocolTemplate',
            name='requires_signoff',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.RunPython(one_row_per_version, back_to_0008),
    ]
