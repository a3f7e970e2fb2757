"""Board snapshots (issue 15): the board's state every 100 events, so that a board loads from
its latest snapshot plus the events after it instead of replaying the whole log."""
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0016_feed_tokens_sealed')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BoardSnapshot',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('board', fields.ForeignKeyField('models.Board', source_field='board_id', db_constraint=True, to_field='id', related_name='snapshots', on_delete=OnDelete.CASCADE)),
                ('seq', fields.IntField()),
                ('version', fields.IntField()),
                ('fingerprint', fields.CharField(max_length=100)),
                ('state', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'board_snapshots', 'app': 'models', 'unique_together': (('board', 'seq'),), 'pk_attr': 'id', 'table_description': "The board's state as of event `seq`, so that loading it replays only the events after."},
            bases=['Model'],
        ),
    ]
