"""Calendar links kept sealed beside their hash, so the owner's account page can show theirs
again (issue 20, item 1). Older links stay null: their owner makes a new one to see it."""
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0015_list_indexes')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='FeedToken',
            options={'table': 'feed_tokens', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The secret in a private calendar feed URL: looked up by its SHA-256, and kept sealed so'},
        ),
        ops.AddField(
            model_name='FeedToken',
            name='token_sealed',
            field=fields.CharField(null=True, max_length=255),
        ),
    ]
