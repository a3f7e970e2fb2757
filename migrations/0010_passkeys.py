"""Passkeys beside authenticator apps (issue 18): the credential columns of second_factors,
the table of WebAuthn challenges waiting for an answer, and TOTP secrets sealed at rest
(the column widens for the sealed form; the rows stored in clear are sealed here, under the
key that GROUPIPT_SECRET_KEY, or the var directory's key file, gives this server)."""
from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.accounts import FactorKind
from tortoise.fields.base import OnDelete
from tortoise import fields

async def seal_totp_secrets(apps: Any, schema_editor: Any) -> None:
    from server.accounts import _sealed
    from server.platform.settings import Settings

    db = schema_editor.client
    key = Settings.from_env().secret_key
    rows = await db.execute_query_dict("SELECT id, secret FROM second_factors WHERE kind = 'totp' AND secret <> ''")
    for row in rows:
        if _sealed.is_sealed(row["secret"]):
            continue
        first, second = ("?", "?") if db.capabilities.dialect == "sqlite" else ("$1", "$2")
        await db.execute_query(f"UPDATE second_factors SET secret = {first} WHERE id = {second}",
                               [_sealed.seal(row["secret"], key), row["id"]])


async def unseal_totp_secrets(apps: Any, schema_editor: Any) -> None:
    from server.accounts import _sealed
    from server.platform.settings import Settings

    db = schema_editor.client
    key = Settings.from_env().secret_key
    first, second = ("?", "?") if db.capabilities.dialect == "sqlite" else ("$1", "$2")
    for row in await db.execute_query_dict("SELECT id, secret FROM second_factors WHERE kind = 'totp'"):
        if _sealed.is_sealed(row["secret"]):
            await db.execute_query(f"UPDATE second_factors SET secret = {first} WHERE id = {second}",
                                   [_sealed.unseal(row["secret"], key), row["id"]])


class Migration(migrations.Migration):
    dependencies = [('models', '0009_checklists')]

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
        ops.AlterField(
            model_name='SecondFactor',
            name='secret',
            field=fields.CharField(default='', max_length=255),
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
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='SecondFactor',
            name='transports',
            field=fields.CharField(default='', db_default='', max_length=120),
        ),
        ops.RunPython(seal_totp_secrets, unseal_totp_secrets),
    ]
