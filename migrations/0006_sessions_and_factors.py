from tortoise import migrations
from tortoise.migrations import operations as ops
from models.accounts import FactorKind
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0005_consent_and_activation')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RecoveryCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='recovery_codes', on_delete=OnDelete.CASCADE)),
                ('code_sha256', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'recovery_codes', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Single-use codes for when the authenticator is lost, shown once and stored as SHA-256.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SecondFactor',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='second_factors', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='TOTP: totp', enum_type=FactorKind, max_length=16)),
                ('name', fields.CharField(default='', max_length=80)),
                ('secret', fields.CharField(default='', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('confirmed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_used_step', fields.BigIntField(null=True)),
            ],
            options={'table': 'second_factors', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A second factor: for now an authenticator app (TOTP, RFC 6238).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SignInSession',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='sign_in_sessions', on_delete=OnDelete.CASCADE)),
                ('key_sha256', fields.CharField(unique=True, max_length=64)),
                ('device', fields.CharField(default='', max_length=120)),
                ('client_ip', fields.CharField(default='', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('authenticated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('factor_setup_required', fields.BooleanField(default=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('end_reason', fields.CharField(default='', max_length=32)),
            ],
            options={'table': 'sign_in_sessions', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A sign-in of one browser, kept on the server so it can be listed, limited and ended.'},
            bases=['Model'],
        ),
    ]
