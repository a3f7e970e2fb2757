from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_sessions_and_factors')]

    initial = False

    operations = [
        ops.CreateModel(
            name='NotifiedAbsence',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('meeting', fields.ForeignKeyField('models.Meeting', source_field='meeting_id', db_constraint=True, to_field='id', related_name='notified_absences', on_delete=OnDelete.CASCADE)),
                ('enrollment', fields.ForeignKeyField('models.Enrollment', source_field='enrollment_id', db_constraint=True, to_field='id', related_name='notified_absences', on_delete=OnDelete.CASCADE)),
                ('reason', fields.CharField(default='', max_length=500)),
                ('notified_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('withdrawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notified_absences', 'app': 'models', 'unique_together': (('meeting', 'enrollment'),), 'pk_attr': 'id', 'table_description': 'A member said ahead that they cannot come to a meeting, withdrawn when they can after all.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReminderChoice',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='reminder_choice', on_delete=OnDelete.CASCADE)),
                ('hours', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'reminder_choices', 'app': 'models', 'pk_attr': 'id', 'table_description': "A member's own choice of lead times. Without a row, the clinic's setting applies."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReminderSent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('meeting', fields.ForeignKeyField('models.Meeting', source_field='meeting_id', db_constraint=True, to_field='id', related_name='reminders_sent', on_delete=OnDelete.CASCADE)),
                ('member', fields.ForeignKeyField('models.User', source_field='member_id', db_constraint=True, to_field='id', related_name='reminders_sent', on_delete=OnDelete.CASCADE)),
                ('hours_before', fields.FloatField()),
                ('channel', fields.CharField(default='email', max_length=16)),
                ('message', fields.ForeignKeyField('models.OutboxMessage', source_field='message_id', null=True, db_constraint=True, to_field='id', related_name='reminders', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'reminders_sent', 'app': 'models', 'unique_together': (('meeting', 'member', 'hours_before', 'channel'),), 'pk_attr': 'id', 'table_description': 'One reminder to one person for one meeting at one lead time. Unique, so two sweeps'},
            bases=['Model'],
        ),
    ]
