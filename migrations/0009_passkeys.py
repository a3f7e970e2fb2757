from tortoise import migrations
from tortoise.migrations import operations as ops
from models.accounts import FactorKind
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0008_supervision')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PasskeyChallenge',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('binding_sha256', fields.CharField(unique=True, max_length=64)),
                ('purpose', fields.CharField(max_length=16)),
                ('challenge', fields.CharField(max_length=128)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='passkey_challenges', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'passkey_challenges', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A WebAuthn challenge waiting for its answer: kept on the server, bound to the browser'},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='SecondFactor',
            options={'table': 'second_factors', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A second factor: an authenticator app (TOTP, RFC 6238) or a passkey (WebAuthn).'},
        ),
        ops.AlterField(
            model_name='SecondFactor',
            name='kind',
            field=fields.CharEnumField(description='TOTP: totp\nPASSKEY: passkey', enum_type=FactorKind, max_length=16),
        ),
        ops.AddField(
            model_name='SecondFactor',
            name='credential_id',
            field=fields.CharField(null=True, unique=True, max_length=1400),
        ),
        ops.AddField(
            model_name='SecondFactor',
            name='public_key',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='SecondFactor',
            name='sign_count',
            field=fields.BigIntField(default=0),
        ),
        ops.AddField(
            model_name='SecondFactor',
            name='transports',
            field=fields.CharField(default='', max_length=120),
        ),
    ]
