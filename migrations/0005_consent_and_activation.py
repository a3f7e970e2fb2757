from tortoise import migrations
from tortoise.migrations import operations as ops
from models.cohorts import ConsentMethod
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_safety_reaches_a_clinician')]

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
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='Cohort',
            name='activation_override_reason',
            field=fields.CharField(default='', db_default='', max_length=500),
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
            field=fields.BooleanField(default=True, db_default=True),
        ),
            # WHO Group IPT's initial phase is session 1 alone (domain-ipt.md section 2a), so a
        # member joining at session 3, the old shipped cutoff, missed all of it (section 7).
        ops.RunSQL(
            "UPDATE protocol_templates SET late_join_cutoff_session = 1 "
            "WHERE slug = 'who-group-ipt' AND is_builtin = TRUE AND late_join_cutoff_session = 3",
            reverse_sql="UPDATE protocol_templates SET late_join_cutoff_session = 3 "
            "WHERE slug = 'who-group-ipt' AND is_builtin = TRUE AND late_join_cutoff_session = 1",
        ),
    ]
