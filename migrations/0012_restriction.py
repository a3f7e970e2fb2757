from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0011_supervision_meetings')]

    initial = False

    operations = [
        ops.AddField(
            model_name='User',
            name='restricted_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='User',
            name='restricted_by',
            field=fields.ForeignKeyField('models.User', source_field='restricted_by_id', null=True, db_constraint=True, to_field='id', related_name='restrictions_set', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='User',
            name='restriction_reason',
            field=fields.CharField(default='', db_default='', max_length=500),
        ),
    ]
