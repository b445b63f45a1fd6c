"""Command line: python -m api {serve,worker,migrate,create-tenant,create-operator,verify-audit,...}."""

from __future__ import annotations

import argparse
import asyncio
import sys

from api.settings import ConfigurationError, get_settings


def _setup_logging() -> None:
    from api.observability import setup_logging

    setup_logging(get_settings().log_level)


def cmd_serve(args: argparse.Namespace) -> int:
    from api.server import serve

    serve("api.app:create_app", host=args.host, port=args.port, workers=args.workers)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from api.jobs.worker import run_worker
    from db.engine import database_url

    settings = get_settings()
    settings.check_production_safety()
    asyncio.run(run_worker(database_url(settings), settings, concurrency=args.concurrency))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from db.engine import database_url
    from db.migrate import upgrade

    upgrade(database_url(get_settings()), args.revision)
    return 0


def cmd_create_tenant(args: argparse.Namespace) -> int:
    from api.errors import UserFailure
    from api.request_meta import RequestMeta
    from api.usecases.onboarding import create_tenant
    from api.work import background_work
    from db.engine import database_url, make_engine, make_sessionmaker

    settings = get_settings()

    async def run() -> int:
        engine = make_engine(settings, database_url(settings))
        try:
            meta = RequestMeta(user_agent="cli", request_id="cli-create-tenant")
            async with background_work(make_sessionmaker(engine), settings, meta) as work:
                created = await create_tenant(
                    work,
                    slug=args.slug,
                    name=args.name,
                    owner_username=args.owner_username,
                    owner_email=args.owner_email,
                    seats=args.seats,
                )
        except UserFailure as failure:
            for problem in failure.problems:
                print(f"error: {problem.field or ''}: {problem.message}", file=sys.stderr)
            return 2
        finally:
            await engine.dispose()
        print(
            f"Created tenant {created.tenant.slug} ({created.tenant.id}); owner {created.owner.username} invited.",
            file=sys.stderr,
        )
        print(created.invitation_link)
        return 0

    return asyncio.run(run())


def _read_new_password(args: argparse.Namespace) -> str | None:
    """From stdin (--password-stdin: its first line), else typed twice on a terminal."""
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        print("error: no terminal to type the password on: use --password-stdin", file=sys.stderr)
        return None
    first = getpass.getpass("Password for the operator: ")
    if getpass.getpass("The same password again: ") != first:
        print("error: the two passwords differ", file=sys.stderr)
        return None
    return first


def cmd_create_operator(args: argparse.Namespace) -> int:
    from api.errors import UserFailure
    from api.operators import accounts
    from api.request_meta import RequestMeta
    from api.work import background_work
    from db.engine import database_url, make_engine, make_sessionmaker

    settings = get_settings()
    password = None
    if not args.reset_factor:
        if not args.email:
            print("error: --email is needed for a new operator", file=sys.stderr)
            return 2
        password = _read_new_password(args)
        if password is None:
            return 2

    async def run() -> int:
        engine = make_engine(settings, database_url(settings))
        try:
            meta = RequestMeta(user_agent="cli", request_id="cli-create-operator")
            async with background_work(make_sessionmaker(engine), settings, meta) as work:
                if args.reset_factor:
                    factor = await accounts.reset_factor(work, username=args.username)
                else:
                    assert password is not None
                    factor = await accounts.create(work, username=args.username, email=args.email, password=password)
        except UserFailure as failure:
            for problem in failure.problems:
                print(f"error: {problem.field or ''}: {problem.message}", file=sys.stderr)
            return 2
        finally:
            await engine.dispose()
        what = "New second factor for" if args.reset_factor else "Created"
        print(f"{what} operator {factor.operator.username} ({factor.operator.id}).", file=sys.stderr)
        print("Add this key to the operator's authenticator app now; it is not shown again:", file=sys.stderr)
        if sys.stdout.isatty():
            import segno

            segno.make(factor.otpauth_uri, error="m").terminal(compact=True)
        print(f"secret: {factor.secret}", file=sys.stderr)
        print(factor.otpauth_uri)
        return 0

    return asyncio.run(run())


def cmd_verify_audit(args: argparse.Namespace) -> int:
    import asyncpg

    from api.audit.chain import verify
    from api.audit.checkpoints import CheckpointKeys
    from api.operators import chain as operators_chain
    from db.engine import database_url

    settings = get_settings()

    async def run() -> int:
        conn = await asyncpg.connect(database_url(settings))
        try:
            reports = await verify(conn, args.tenant, CheckpointKeys(settings.secret_keys()))
            # The operators' log is checked with every tenant, not for one tenant alone.
            operators = None if args.tenant else await operators_chain.verify(conn)
        finally:
            await conn.close()
        if args.tenant and not reports:
            print(f"error: no tenant {args.tenant!r}", file=sys.stderr)
            return 2
        for report in reports:
            if report.ok:
                print(f"{report.slug}: ok, {report.events} events, {report.checkpoints} signed checkpoints")
            else:
                where = f"event {report.broken_event_id} " if report.broken_event_id is not None else ""
                print(f"{report.slug}: BROKEN at {where}(chain position {report.broken_chain_seq}): {report.reason}")
        if operators is not None:
            if operators.ok:
                print(f"operators: ok, {operators.events} events")
            else:
                print(
                    f"operators: BROKEN at event {operators.broken_event_id} "
                    f"(chain position {operators.broken_chain_seq}): {operators.reason}"
                )
        return 0 if all(r.ok for r in reports) and (operators is None or operators.ok) else 1

    return asyncio.run(run())


def cmd_checkpoint_audit(args: argparse.Namespace) -> int:
    from api.audit import checkpoints
    from db.engine import database_url, make_engine, make_sessionmaker, transaction

    settings = get_settings()

    async def run() -> int:
        engine = make_engine(settings, database_url(settings))
        try:
            async with transaction(make_sessionmaker(engine)) as db:
                made = await checkpoints.make(db, checkpoints.CheckpointKeys(settings.secret_keys()))
        finally:
            await engine.dispose()
        print(f"{made} checkpoints made")
        return 0

    return asyncio.run(run())


def cmd_disable_operator(args: argparse.Namespace) -> int:
    from api.errors import UserFailure
    from api.operators import accounts
    from api.request_meta import RequestMeta
    from api.work import background_work
    from db.engine import database_url, make_engine, make_sessionmaker

    settings = get_settings()

    async def run() -> int:
        engine = make_engine(settings, database_url(settings))
        try:
            meta = RequestMeta(user_agent="cli", request_id="cli-disable-operator")
            async with background_work(make_sessionmaker(engine), settings, meta) as work:
                await accounts.set_disabled(work, username=args.username, disabled=not args.enable)
        except UserFailure as failure:
            for problem in failure.problems:
                print(f"error: {problem.message}", file=sys.stderr)
            return 2
        finally:
            await engine.dispose()
        print(f"{args.username}: {'enabled' if args.enable else 'disabled; every session ended'}", file=sys.stderr)
        return 0

    return asyncio.run(run())


def cmd_add_application(args: argparse.Namespace) -> int:
    from api.errors import UserFailure
    from api.request_meta import RequestMeta
    from api.webhooks import applications
    from api.work import background_work
    from db.engine import database_url, make_engine, make_sessionmaker

    settings = get_settings()

    async def run() -> int:
        engine = make_engine(settings, database_url(settings))
        try:
            meta = RequestMeta(user_agent="cli", request_id="cli-add-application")
            async with background_work(make_sessionmaker(engine), settings, meta) as work:
                made = await applications.create(
                    work,
                    name=args.name,
                    webhook_url=args.webhook_url,
                    types=[t.strip() for t in args.events.split(",") if t.strip()],
                    takes_erasure=args.erasure,
                    takes_export=args.export,
                    system=True,
                )
                key = await applications.create_key(
                    work, application_id=str(made.application.id), name="created with the application", system=True
                )
        except UserFailure as failure:
            for problem in failure.problems:
                print(f"error: {problem.field or ''}: {problem.message}", file=sys.stderr)
            return 2
        finally:
            await engine.dispose()
        print(f"Application {made.application.name} ({made.application.id}). Shown once:", file=sys.stderr)
        print(f"signing secret: {made.secret}")
        print(f"API key: {key.token}")
        return 0

    return asyncio.run(run())


def cmd_export_schema(args: argparse.Namespace) -> int:
    from api.graphql.schema import schema

    sys.stdout.write(schema.as_str() + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve HTTP (in development also runs the jobs)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run background jobs")
    worker.add_argument("--concurrency", type=int, default=4)
    worker.set_defaults(func=cmd_worker)

    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("revision", nargs="?", default="head")
    migrate.set_defaults(func=cmd_migrate)

    create = sub.add_parser("create-tenant", help="create a tenant and invite its owner; prints the link")
    create.add_argument("--slug", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--owner-username", required=True)
    create.add_argument("--owner-email", required=True)
    create.add_argument("--seats", type=int, default=None)
    create.set_defaults(func=cmd_create_tenant)

    operator = sub.add_parser(
        "create-operator",
        help="create an operator (the vendor's staff) with a password and a TOTP second factor; prints its otpauth:// URI",
    )
    operator.add_argument("--username", required=True)
    operator.add_argument("--email", help="required for a new operator")
    operator.add_argument(
        "--password-stdin", action="store_true", help="read the password from the first line of stdin"
    )
    operator.add_argument(
        "--reset-factor",
        action="store_true",
        help="issue a new TOTP secret to an existing operator (ends its sessions)",
    )
    operator.set_defaults(func=cmd_create_operator)

    verify = sub.add_parser(
        "verify-audit", help="recompute each tenant's audit hash chain and the operators' log; exit 1 at a break"
    )
    verify.add_argument("--tenant", help="only this tenant (slug)")
    verify.set_defaults(func=cmd_verify_audit)

    checkpoint = sub.add_parser(
        "checkpoint-audit", help="sign the head of every audit chain that grew (the worker does this every 5 minutes)"
    )
    checkpoint.set_defaults(func=cmd_checkpoint_audit)

    disable = sub.add_parser(
        "disable-operator", help="offboard an operator: no more login, every session ends (--enable: undo)"
    )
    disable.add_argument("--username", required=True)
    disable.add_argument("--enable", action="store_true")
    disable.set_defaults(func=cmd_disable_operator)

    application = sub.add_parser(
        "add-application",
        help="register a connected application (operators can, in the API); prints its signing secret and an API key, once",
    )
    application.add_argument("--name", required=True)
    application.add_argument("--webhook-url", required=True)
    application.add_argument("--events", default="", help="comma-separated event types (see README)")
    application.add_argument("--erasure", action="store_true", help="takes part in erasure (confirms each)")
    application.add_argument("--export", action="store_true", help="takes part in export (sends its part)")
    application.set_defaults(func=cmd_add_application)

    export = sub.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    export.set_defaults(func=cmd_export_schema)

    args = parser.parse_args(argv)
    _setup_logging()
    try:
        return int(args.func(args))
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
