"""The `groupipt` command: serve, migrate, create-user, demo, token, safety-sweep, reminders-sweep, backup, restore, purge, export fhir."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import Awaitable, Callable

from tortoise.context import TortoiseContext

from server.platform.settings import Settings, SettingsError


async def _with_db(settings: Settings, work: Callable[[], Awaitable]):
    async with TortoiseContext() as ctx:
        await ctx.init(config=settings.tortoise_config())
        return await work()


def cmd_migrate(settings: Settings, args) -> int:
    from server.platform.db import migrate

    asyncio.run(migrate(settings))
    print("Database is up to date.")
    return 0


def cmd_serve(settings: Settings, args) -> int:
    import uvicorn

    from server.platform.db import migrate
    from server.platform.logconfig import log_config

    if args.workers > 1 and (settings.is_sqlite or settings.broadcast_url.startswith("memory")):
        # SQLite serializes writes inside one process only (tech-notes 2.3).
        print("groupipt: several workers need PostgreSQL (GROUPIPT_DATABASE_URL=postgres://...) "
              "and Redis for the live board (GROUPIPT_BROADCAST_URL=redis://...).", file=sys.stderr)
        return 2
    if not os.environ.get("GROUPIPT_BASE_URL"):
        # Links printed and e-mailed must point at the port actually served.
        os.environ["GROUPIPT_BASE_URL"] = f"http://{args.host}:{args.port}"
        settings = Settings.from_env()
    if not args.no_migrate:
        asyncio.run(migrate(settings))
    link = asyncio.run(_with_db(settings, _setup_link_if_needed))
    if link:
        bar = "=" * 72
        print(f"\n{bar}\nNo coordinator exists yet. Open this one-time link to create the first\n"
              f"coordinator account (it also offers to load demo data):\n\n    {settings.base_url}{link}\n{bar}\n",
              flush=True)
    uvicorn.run(
        "server.web.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=log_config(),
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
        ws_max_size=64 * 1024,  # board commands are small; uvicorn's default is 16 MiB
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=5,  # close board sockets instead of hanging on SIGTERM
    )
    return 0


async def _setup_link_if_needed() -> str | None:
    from models.accounts import LinkPurpose, Role, User
    from server.accounts import issue_link

    if await User.filter(role=Role.COORDINATOR).exists():
        return None
    return await issue_link(LinkPurpose.SETUP)


def cmd_create_user(settings: Settings, args) -> int:
    from models.accounts import Role, User
    from server import accounts
    from server.errors import BadRequest

    password = args.password or getpass.getpass("Password (at least 10 characters): ")

    async def work():
        email = accounts.normalize_email(args.email)
        if await User.filter(email=email).exists():
            raise BadRequest(f"{email} already has an account.")
        password_hash = await accounts.Passwords(settings.password_profile).hash(password)
        return await User.create(email=email, display_name=args.name, role=Role(args.role), password_hash=password_hash)

    user = asyncio.run(_with_db(settings, work))
    print(f"Created {user.role.value} {user.display_name} <{user.email}> (id {user.id}).")
    if user.role != Role.MEMBER:
        need = "must" if settings.staff_mfa_required else "may"
        print(f"Staff {need} add a second factor: sign in, and set up an authenticator app at "
              f"{settings.base_url}/account/second-factor")
    return 0


def cmd_token(settings: Settings, args) -> int:
    from models.accounts import ApiToken, User
    from server import accounts, clock
    from server.errors import BadRequest

    async def create():
        user = await User.get_or_none(email=accounts.normalize_email(args.email))
        if user is None:
            raise BadRequest(f"No account with e-mail {args.email}.")
        token, secret = await accounts.create_api_token(user, args.name)
        return f"{secret}\n(token id {token.id} for {user.email}; shown only now)"

    async def revoke():
        token = await ApiToken.get_or_none(id=args.token_id, revoked_at=None)
        if token is None:
            raise BadRequest(f"No active token with id {args.token_id}.")
        token.revoked_at = clock.now()
        await token.save(update_fields=["revoked_at"])
        return f"Revoked token {token.id} ({token.name})."

    print(asyncio.run(_with_db(settings, create if args.action == "create" else revoke)))
    return 0


def cmd_demo(settings: Settings, args) -> int:
    from server.demo import load_demo
    from server.platform.db import migrate

    async def work():
        await migrate(settings)
        async with TortoiseContext() as ctx:
            await ctx.init(config=settings.tortoise_config())
            return await load_demo(settings)

    result = asyncio.run(work())
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"Demo loaded. Open {result['base_url']} and log in as:")
        for user in result["users"]:
            print(f"  {user['role']:<12} {user['name']:<22} {user['email']:<32} password: {user['password']}")
        if result.get("supervisor"):
            user = result["supervisor"]
            print(f"  {'supervisor':<12} {user['name']:<22} {user['email']:<32} password: {user['password']}")
    return 0


def cmd_safety_sweep(settings: Settings, args) -> int:
    """One pass of what the server does periodically: escalate overdue safety items, remind follow-ups."""
    from server import clock
    from server.measures import safety, safety_alerts

    async def work():
        safety.configure(settings)
        return await safety_alerts.sweep(now=clock.now(), settings=settings)

    result = asyncio.run(_with_db(settings, work))
    print(f"Escalated {len(result.escalated)} item(s); reminded {len(result.reminded)} follow-up(s).")
    return 0


def cmd_backup(settings: Settings, args) -> int:
    from pathlib import Path

    from server import clock, records

    path = Path(args.path)
    if not (args.verify and path.exists()):
        manifest = asyncio.run(records.take_backup(settings, path, now=clock.now()))
        print(f"Backed up {manifest.total_rows} rows in {len(manifest.counts)} tables at {manifest.migration} "
              f"to {path} (sha256 {manifest.sha256}).")
    if not args.verify:
        return 0
    verified = asyncio.run(records.verify_backup(settings, path))
    if not verified.ok:
        for table, (listed, restored) in verified.differences.items():
            print(f"  {table}: {listed} in the manifest, {restored} restored", file=sys.stderr)
        print(f"groupipt: {path} does NOT restore to what its manifest lists.", file=sys.stderr)
        return 1
    print(f"Verified {path}: restored into a scratch database, {verified.manifest.total_rows} rows in "
          f"{len(verified.counts)} tables, as its manifest lists; it migrates to this version.")
    return 0


def cmd_restore(settings: Settings, args) -> int:
    from pathlib import Path

    from server import records

    restored = asyncio.run(records.restore_backup(settings, Path(args.path), force=args.force))
    taken = restored.manifest
    print(f"Restored {args.path} (taken {taken.created_at.isoformat(timespec='seconds')} at {taken.migration}); "
          f"migrated to {restored.migrated_to}. Rows per table:")
    for table, count in sorted(restored.counts.items()):
        print(f"  {table:<28} {count}")
    return 0


def cmd_purge(settings: Settings, args) -> int:
    from server import clock
    from server.records import retention

    years = retention.retention_years(settings)
    if years is None:
        print("GROUPIPT_RETENTION_YEARS is not set, so nothing is ever purged. Set it to the number of years "
              "your health-records law requires records to be kept after a member's last group ends.")
        return 0
    if args.dry_run:
        due = asyncio.run(_with_db(settings, lambda: retention.members_due(now=clock.now(), years=years)))
        print(f"{len(due)} member record(s) past {years} years' retention would be purged"
              + "".join(f"\n  member {d.member_id}, last group ended {d.ended_at.date().isoformat()}" for d in due))
        return 0
    _, purged = asyncio.run(_with_db(settings, lambda: retention.purge_due(settings, now=clock.now())))
    print(f"Purged {len(purged)} member record(s) past {years} years' retention"
          + "".join(f"\n  member {p.member_id}: " + (", ".join(f"{v} {k}" for k, v in p.removed.items()) or "nothing clinical")
                    for p in purged))
    return 0


def cmd_export_fhir(settings: Settings, args) -> int:
    from pathlib import Path

    from server.records import fhir_read

    counts = asyncio.run(_with_db(settings, lambda: fhir_read.write_cohort_ndjson(args.cohort, Path(args.path))))
    print(f"Wrote cohort {args.cohort} as FHIR R4 NDJSON (Bulk Data format) into {args.path}:"
          + "".join(f"\n  {kind}.ndjson  {count}" for kind, count in counts.items()))
    return 0


def cmd_reminders_sweep(settings: Settings, args) -> int:
    """One pass of the server's reminder sweep, for a cron job when no server runs it."""
    from server import clock, reminders

    async def work():
        return await reminders.sweep(now=clock.now(), settings=settings)

    result = asyncio.run(_with_db(settings, work))
    print(f"Sent {len(result.sent)} reminder(s).")
    print(f"Raised {len(result.follow_ups)} follow-up(s); sent {len(result.questionnaires)} questionnaire reminder(s).")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from models.accounts import Role  # the roles, from their one definition (models are imported late here, as in every command)

    parser = argparse.ArgumentParser(prog="groupipt", description="Run group IPT cohorts.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, then serve the platform")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="several workers need PostgreSQL")
    serve.add_argument("--no-migrate", action="store_true")
    serve.set_defaults(run=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(run=cmd_migrate)

    create = sub.add_parser("create-user", help="create an account with a password")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument("--password", help="prompted for when omitted")
    create.set_defaults(run=cmd_create_user)

    demo = sub.add_parser("demo", help="load a realistic demo clinic")
    demo.add_argument("--json", action="store_true", help="print logins, tokens and URLs as JSON")
    demo.set_defaults(run=cmd_demo)

    sub.add_parser("safety-sweep", help="escalate overdue safety items and remind follow-ups (one pass)").set_defaults(
        run=cmd_safety_sweep)
    sub.add_parser("reminders-sweep", help="send the meeting reminders that are due (one pass)").set_defaults(
        run=cmd_reminders_sweep)

    token = sub.add_parser("token", help="create or revoke a personal API token")
    token_sub = token.add_subparsers(dest="action", required=True)
    token_create = token_sub.add_parser("create")
    token_create.add_argument("--email", required=True)
    token_create.add_argument("--name", default="command line")
    token_revoke = token_sub.add_parser("revoke")
    token_revoke.add_argument("token_id", type=int)
    token.set_defaults(run=cmd_token)

    backup = sub.add_parser("backup", help="write a consistent backup while the server runs")
    backup.add_argument("path", help="the backup file to write (never overwritten)")
    backup.add_argument("--verify", action="store_true",
                        help="then restore it into a scratch database and compare (an existing PATH is only checked)")
    backup.set_defaults(run=cmd_backup)

    restore = sub.add_parser("restore", help="restore a backup into the configured database, then migrate")
    restore.add_argument("path")
    restore.add_argument("--force", action="store_true", help="replace a database that already holds data")
    restore.set_defaults(run=cmd_restore)

    purge = sub.add_parser("purge", help="purge member records past GROUPIPT_RETENTION_YEARS (audited)")
    purge.add_argument("--due", action="store_true", required=True, help="every record whose retention has ended")
    purge.add_argument("--dry-run", action="store_true", help="only list what is due")
    purge.set_defaults(run=cmd_purge)

    export = sub.add_parser("export", help="export records in a standard format")
    export_sub = export.add_subparsers(dest="format", required=True)
    export_fhir = export_sub.add_parser("fhir", help="one cohort as FHIR R4 NDJSON, a file per resource type")
    export_fhir.add_argument("--cohort", type=int, required=True, help="the cohort's id")
    export_fhir.add_argument("path", help="a new (or empty) directory to write Patient.ndjson, Group.ndjson, ...")
    export_fhir.set_defaults(run=cmd_export_fhir)
    return parser


def main(argv: list[str] | None = None) -> int:
    from server.errors import REFUSALS, refusal

    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        return args.run(settings, args)
    except SettingsError as exc:
        print(f"groupipt: {exc}", file=sys.stderr)
        return 2
    except REFUSALS as exc:  # a refusal (a plan that cannot be made, say) is a message, not a traceback
        refused = refusal(exc)
        print(f"groupipt: {refused.message}", file=sys.stderr)
        for field, message in refused.fields.items():
            print(f"  {field}: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
