from tortoise import migrations
from tortoise.migrations import operations as ops
from models.closure import SignoffAction
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0008_supervision')]

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
    ]
