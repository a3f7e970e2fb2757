from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0010_passkeys')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SupervisionMeeting',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('supervisor', fields.ForeignKeyField('models.User', source_field='supervisor_id', db_constraint=True, to_field='id', related_name='supervision_meetings_held', on_delete=OnDelete.CASCADE)),
                ('held_on', fields.DateField()),
                ('notes', fields.TextField(default='', unique=False)),
                ('facilitators_present', fields.ManyToManyField('models.User', unique=True, db_constraint=True, through='supervision_meeting_facilitators', forward_key='user_id', backward_key='supervision_meetings_id', related_name='supervision_meetings_attended', on_delete=OnDelete.CASCADE)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='supervision_meetings_recorded', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'supervision_meetings', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A weekly supervision meeting, as its supervisor recorded it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SupervisionAction',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('meeting', fields.ForeignKeyField('models.SupervisionMeeting', source_field='meeting_id', db_constraint=True, to_field='id', related_name='actions', on_delete=OnDelete.CASCADE)),
                ('text', fields.CharField(max_length=500)),
                ('owner', fields.ForeignKeyField('models.User', source_field='owner_id', null=True, db_constraint=True, to_field='id', related_name='supervision_actions', on_delete=OnDelete.SET_NULL)),
                ('due_on', fields.DateField()),
                ('done_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('done_by', fields.ForeignKeyField('models.User', source_field='done_by_id', null=True, db_constraint=True, to_field='id', related_name='supervision_actions_done', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'supervision_actions', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Something agreed at a supervision meeting, open until marked done.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SupervisionCase',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('meeting', fields.ForeignKeyField('models.SupervisionMeeting', source_field='meeting_id', db_constraint=True, to_field='id', related_name='cases', on_delete=OnDelete.CASCADE)),
                ('enrollment', fields.ForeignKeyField('models.Enrollment', source_field='enrollment_id', db_constraint=True, to_field='id', related_name='supervision_cases', on_delete=OnDelete.CASCADE)),
                ('note', fields.CharField(default='', max_length=500)),
            ],
            options={'table': 'supervision_cases', 'app': 'models', 'unique_together': (('meeting', 'enrollment'),), 'pk_attr': 'id', 'table_description': "A member's case discussed at a supervision meeting, with a short note."},
            bases=['Model'],
        ),
    ]
