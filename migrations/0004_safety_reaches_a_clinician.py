from tortoise import migrations
from tortoise.migrations import operations as ops
from models.clinical import ContactMethod, RiskAction, RiskLevel, SafetyNoticeKind, SafetySource, SuicidalThoughts
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_one_board_per_meeting')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AwayPeriod',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='away_periods', on_delete=OnDelete.CASCADE)),
                ('starts_on', fields.DateField()),
                ('ends_on', fields.DateField()),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='away_periods_set', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'away_periods', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Dates a facilitator is away, inclusive: safety items arising then go to others.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ClinicSafetySettings',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('help_text', fields.TextField(default='', unique=False)),
                ('updated_by', fields.ForeignKeyField('models.User', source_field='updated_by_id', null=True, db_constraint=True, to_field='id', related_name='safety_settings_updates', on_delete=OnDelete.SET_NULL)),
                ('updated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'clinic_safety_settings', 'app': 'models', 'pk_attr': 'id', 'table_description': "The clinic's crisis help text shown to a member after a positive item 9 (one row)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SafetyNotice',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('safety_item', fields.ForeignKeyField('models.SafetyItem', source_field='safety_item_id', db_constraint=True, to_field='id', related_name='notices', on_delete=OnDelete.CASCADE)),
                ('recipient', fields.ForeignKeyField('models.User', source_field='recipient_id', db_constraint=True, to_field='id', related_name='safety_notices', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='OPENED: opened\nESCALATED: escalated\nFOLLOW_UP: follow_up', enum_type=SafetyNoticeKind, max_length=16)),
                ('level', fields.IntField(default=0)),
                ('risk_check', fields.ForeignKeyField('models.RiskCheck', source_field='risk_check_id', null=True, db_constraint=True, to_field='id', related_name='notices', on_delete=OnDelete.SET_NULL)),
                ('message', fields.ForeignKeyField('models.OutboxMessage', source_field='message_id', null=True, db_constraint=True, to_field='id', related_name='safety_notices', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'safety_notices', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One person told about a safety item: by e-mail (its outbox row) and on their home page.'},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='RiskCheck',
            options={'table': 'risk_checks', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A structured risk assessment (domain-ipt.md 5b), or a logged attempt that did not reach the member.'},
        ),
        ops.AlterField(
            model_name='RiskCheck',
            name='action',
            field=fields.CharEnumField(null=True, description='NONE: none\nSAFETY_PLAN: safety_plan\nREFERRAL: referral\nEMERGENCY: emergency', enum_type=RiskAction, max_length=16),
        ),
        ops.AddField(
            model_name='RiskCheck',
            name='access_to_means',
            field=fields.BooleanField(null=True),
        ),
        ops.AddField(
            model_name='RiskCheck',
            name='contact_method',
            field=fields.CharEnumField(default=ContactMethod.IN_PERSON, db_default='in_person', description='IN_PERSON: in_person\nPHONE: phone\nVIDEO: video\nUNREACHED: unreached', enum_type=ContactMethod, max_length=16),
        ),
        ops.AddField(
            model_name='RiskCheck',
            name='follow_up_reminded_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='RiskCheck',
            name='intent',
            field=fields.BooleanField(null=True),
        ),
        ops.AddField(
            model_name='RiskCheck',
            name='past_attempts',
            field=fields.BooleanField(null=True),
        ),
        ops.AddField(
            model_name='RiskCheck',
            name='plan',
            field=fields.BooleanField(null=True),
        ),
        ops.AddField(
            model_name='RiskCheck',
            name='protective_factors',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.AddField(
            model_name='RiskCheck',
            name='risk_level',
            field=fields.CharEnumField(null=True, description='LOW: low\nMODERATE: moderate\nHIGH: high\nIMMINENT: imminent', enum_type=RiskLevel, max_length=16),
        ),
        ops.AddField(
            model_name='RiskCheck',
            name='thoughts',
            field=fields.CharEnumField(null=True, description='NONE: none\nPASSIVE: passive\nACTIVE: active', enum_type=SuicidalThoughts, max_length=16),
        ),
        ops.AlterModelOptions(
            name='SafetyItem',
            options={'table': 'safety_items', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Opened by a PHQ-9 item 9 answer above 0 or a disclosure, private to the clinicians.'},
        ),
        ops.AlterField(
            model_name='SafetyItem',
            name='item9',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='SafetyItem',
            name='disclosure_note',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.AddField(
            model_name='SafetyItem',
            name='due_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='SafetyItem',
            name='escalations',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='SafetyItem',
            name='last_escalated_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='SafetyItem',
            name='opened_by',
            field=fields.ForeignKeyField('models.User', source_field='opened_by_id', null=True, db_constraint=True, to_field='id', related_name='safety_items_opened', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='SafetyItem',
            name='raised_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='SafetyItem',
            name='routed_to',
            field=fields.CharField(default='', db_default='', max_length=16),
        ),
        ops.AddField(
            model_name='SafetyItem',
            name='source',
            field=fields.CharEnumField(default=SafetySource.ANSWER, db_default='answer', description='ANSWER: answer\nDISCLOSURE: disclosure', enum_type=SafetySource, max_length=16),
        ),
        ops.AddField(
            model_name='User',
            name='clinician',
            field=fields.BooleanField(null=True),
        ),
        ops.AddField(
            model_name='User',
            name='on_duty',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
