from tortoise import migrations
from tortoise.migrations import operations as ops
from models.cohorts import ConsentMethod
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_board_head_from_log')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Cohort',
            name='activation_override_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Cohort',
            name='activation_override_by',
            field=fields.ForeignKeyField('models.User', source_field='activation_override_by_id', null=True, db_constraint=True, to_field='id', related_name='activation_overrides', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Cohort',
            name='activation_override_problems',
            field=fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='Cohort',
            name='activation_override_reason',
            field=fields.CharField(default='', max_length=500),
        ),
        ops.AddField(
            model_name='Enrollment',
            name='consent_method',
            field=fields.CharEnumField(null=True, description='SIGNED_FORM: signed_form\nVERBAL_IN_PERSON: verbal_in_person\nPHONE: phone\nVIDEO: video\nONLINE: online', enum_type=ConsentMethod, max_length=16),
        ),
        ops.AddField(
            model_name='Enrollment',
            name='formulation_agreed',
            field=fields.BooleanField(null=True),
        ),
        ops.AddField(
            model_name='Enrollment',
            name='formulation_agreed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ProtocolTemplate',
            name='consent_required',
            field=fields.BooleanField(default=True),
        ),
    ]
