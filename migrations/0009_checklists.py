from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0008_supervision')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ProtocolTemplate',
            name='checklist_notes',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.AddField(
            model_name='ProtocolTemplate',
            name='checklists',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
    ]
