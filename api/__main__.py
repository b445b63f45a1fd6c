"""Command line: python -m api {serve,worker,migrate,create-tenant,export-schema}."""

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


def cmd_verify_audit(args: argparse.Namespace) -> int:
    import asyncpg

    from api.audit.chain import verify
    from api.audit.checkpoints import CheckpointKeys
    from db.engine import database_url

    settings = get_settings()

    async def run() -> int:
        conn = await asyncpg.connect(database_url(settings))
        try:
            reports = await verify(conn, args.tenant, CheckpointKeys(settings.secret_keys()))
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
        return 0 if all(r.ok for r in reports) else 1

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

    verify = sub.add_parser("verify-audit", help="recompute each tenant's audit hash chain; exit 1 at a break")
    verify.add_argument("--tenant", help="only this tenant (slug)")
    verify.set_defaults(func=cmd_verify_audit)

    checkpoint = sub.add_parser(
        "checkpoint-audit", help="sign the head of every audit chain that grew (the worker does this every 5 minutes)"
    )
    checkpoint.set_defaults(func=cmd_checkpoint_audit)

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
