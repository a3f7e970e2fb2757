from tortoise import migrations
from tortoise.migrations import operations as ops
from models.reminders import FollowUpReason, OutreachOutcome
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0013_signoff')]

    initial = False

    operations = [
        ops.CreateModel(
            name='FollowUp',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('enrollment', fields.ForeignKeyField('models.Enrollment', source_field='enrollment_id', db_constraint=True, to_field='id', related_name='follow_ups', on_delete=OnDelete.CASCADE)),
                ('cohort', fields.ForeignKeyField('models.Cohort', source_field='cohort_id', db_constraint=True, to_field='id', related_name='follow_ups', on_delete=OnDelete.CASCADE)),
                ('first_missed', fields.ForeignKeyField('models.Meeting', source_field='first_missed_id', db_constraint=True, to_field='id', related_name='follow_ups_started', on_delete=OnDelete.CASCADE)),
                ('last_missed', fields.ForeignKeyField('models.Meeting', source_field='last_missed_id', db_constraint=True, to_field='id', related_name='follow_ups_ended', on_delete=OnDelete.CASCADE)),
                ('reason', fields.CharEnumField(description='ABSENCES_IN_A_ROW: absences_in_a_row\nABSENT_WITHOUT_WORD: absent_without_word', enum_type=FollowUpReason, max_length=24)),
                ('absences_in_a_row', fields.IntField(default=1)),
                ('unnotified', fields.IntField(default=0)),
                ('raised_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('outcome', fields.CharEnumField(null=True, description='REACHED: reached\nNOT_REACHED: not_reached\nPLANS_TO_RETURN: plans_to_return\nLEAVING: leaving', enum_type=OutreachOutcome, max_length=16)),
            ],
            options={'table': 'follow_ups', 'app': 'models', 'unique_together': (('enrollment', 'first_missed'),), 'pk_attr': 'id', 'table_description': "A member who has stopped coming, for the cohort's facilitators to call: one per run of"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='KioskSession',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cohort', fields.ForeignKeyField('models.Cohort', source_field='cohort_id', db_constraint=True, to_field='id', related_name='kiosk_sessions', on_delete=OnDelete.CASCADE)),
                ('started_by', fields.ForeignKeyField('models.User', source_field='started_by_id', null=True, db_constraint=True, to_field='id', related_name='kiosk_sessions', on_delete=OnDelete.SET_NULL)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('wrong_codes', fields.IntField(default=0)),
                ('member', fields.ForeignKeyField('models.Enrollment', source_field='member_id', null=True, db_constraint=True, to_field='id', related_name='kiosk_unlocks', on_delete=OnDelete.CASCADE)),
                ('instrument', fields.CharField(default='', max_length=16)),
                ('occasion', fields.CharField(default='', max_length=32)),
                ('unlocked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'kiosk_sessions', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A shared tablet in the room, for members to fill in their questionnaire: opened by a'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OnlineJoin',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cohort', fields.ForeignKeyField('models.Cohort', source_field='cohort_id', db_constraint=True, to_field='id', related_name='online_joins', on_delete=OnDelete.CASCADE)),
                ('meeting', fields.OneToOneField('models.Meeting', source_field='meeting_id', null=True, db_constraint=True, to_field='id', related_name='online_join', on_delete=OnDelete.CASCADE)),
                ('video_link', fields.CharField(default='', max_length=500)),
                ('dial_in', fields.CharField(default='', max_length=300)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'online_joins', 'app': 'models', 'pk_attr': 'id', 'table_description': "How to join online: a cohort's dial-in text (its video link is `Cohort.video_link`), or"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Outreach',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('follow_up', fields.ForeignKeyField('models.FollowUp', source_field='follow_up_id', db_constraint=True, to_field='id', related_name='outreach', on_delete=OnDelete.CASCADE)),
                ('outcome', fields.CharEnumField(description='REACHED: reached\nNOT_REACHED: not_reached\nPLANS_TO_RETURN: plans_to_return\nLEAVING: leaving', enum_type=OutreachOutcome, max_length=16)),
                ('note', fields.CharField(default='', max_length=1000)),
                ('by', fields.ForeignKeyField('models.User', source_field='by_id', null=True, db_constraint=True, to_field='id', related_name='outreach_recorded', on_delete=OnDelete.SET_NULL)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'follow_up_outreach', 'app': 'models', 'pk_attr': 'id', 'table_description': "A facilitator's attempt to reach the member of a follow-up, with a private note."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='QuestionnaireReminderSent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('enrollment', fields.ForeignKeyField('models.Enrollment', source_field='enrollment_id', db_constraint=True, to_field='id', related_name='questionnaire_reminders', on_delete=OnDelete.CASCADE)),
                ('instrument', fields.CharField(max_length=16)),
                ('occasion', fields.CharField(max_length=32)),
                ('message', fields.ForeignKeyField('models.OutboxMessage', source_field='message_id', null=True, db_constraint=True, to_field='id', related_name='questionnaire_reminders', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'questionnaire_reminders_sent', 'app': 'models', 'unique_together': (('enrollment', 'instrument', 'occasion'),), 'pk_attr': 'id', 'table_description': 'One reminder of one questionnaire window (enrollment, instrument, occasion): sent once.'},
            bases=['Model'],
        ),
    ]
