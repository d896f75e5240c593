"""`vidgate` command line: serve, and manage API keys (works while the server runs)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

import click

from vidgate.config import Settings, SettingsError, env_name, load_settings

_FLAGS: dict[str, str] = {
    "config": "TOML config file.",
    "host": "Address to bind (gRPC, REST and Envoy admin).",
    "grpc_port": "gRPC port.",
    "http_port": "REST (Envoy) port.",
    "envoy_admin_port": "Envoy admin port (0 picks a free one).",
    "data_dir": "Where the SQLite database and content live.",
    "bootstrap_key": "Accept this exact key as a full-access API key.",
    "public_url": "Base URL clients use to reach the REST API (for `url` in videos).",
    "max_upload_mb": "Largest accepted create request body, in MiB.",
    "retention_hours": "How long completed videos' files are kept.",
    "poll_after_ms": "openai-poll-after-ms sent to pollers of unfinished videos.",
    "max_concurrent_renders": "Local renders running at once.",
    "max_inflight_per_key": "Queued + in-progress videos allowed per API key.",
    "log_level": "debug, info, warning or error.",
}
KEY_FLAGS = ("config", "data_dir")


def settings_options(names: tuple[str, ...]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for name in reversed(names):
            func = click.option(
                "--" + name.replace("_", "-"), name, default=None, help=f"{_FLAGS[name]} [env: {env_name(name)}]"
            )(func)
        return func

    return decorate


def _settings(flags: dict[str, Any]) -> Settings:
    try:
        return load_settings(environ=os.environ, flags=flags)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None


@click.group()
@click.version_option(package_name="vidgate")
def main() -> None:
    """vidgate: a self-hosted gateway for AI video generation."""


@main.command()
@settings_options(tuple(_FLAGS))
def serve(**flags: Any) -> None:
    """Serve gRPC and, through Envoy, the OpenAI Videos REST API. Stops cleanly on SIGINT/SIGTERM."""
    settings = _settings(flags)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("yoyo").setLevel(logging.WARNING)  # one line per migration step is noise
    sys.exit(asyncio.run(_serve(settings)))


async def _serve(settings: Settings) -> int:
    from vidgate.app import App
    from vidgate.auth import create_key
    from vidgate.gateway import EnvoyProcess

    # Installed first, so a signal during start-up is a clean shutdown too.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        app = await App.build(settings)
    except RuntimeError as exc:  # grpc cannot bind the port, typically: say so without a traceback
        click.echo(f"vidgate: could not start the gRPC server on {settings.host}:{settings.grpc_port}: {exc}", err=True)
        return 1
    await app.start()
    new_key = None
    if not settings.bootstrap_key and await app.store.count_keys() == 0:
        new_key = await create_key(app.store, name="development")
    envoy = EnvoyProcess(settings, app.grpc_port)
    try:
        await envoy.start()
    except Exception as exc:
        click.echo(f"vidgate: could not start Envoy: {exc}", err=True)
        await envoy.stop()
        await app.stop()
        return 1
    _print_banner(settings, app.grpc_port, new_key.secret if new_key else None)

    waits = {
        asyncio.create_task(stop.wait(), name="signal"),
        asyncio.create_task(envoy.wait(), name="envoy"),
        asyncio.create_task(app.server.wait_for_termination(), name="grpc"),
    }
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    ended = next(iter(done)).get_name()
    if ended == "envoy":
        # Ctrl+C in a terminal signals the whole process group: Envoy may exit a moment before we see it.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
            ended = "signal"
    if ended != "signal":
        click.echo(f"vidgate: {ended} stopped unexpectedly; shutting down", err=True)
    await envoy.stop()
    await app.stop()
    # Not cancelled earlier: cancelling grpc's wait_for_termination would cancel its shutdown too.
    for task in pending:
        if task.get_name() != "grpc":
            task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return 0 if ended == "signal" else 1


def _print_banner(settings: Settings, grpc_port: int, new_secret: str | None) -> None:
    rest = f"http://{settings.host}:{settings.http_port}/v1"
    key = new_secret or "$VIDGATE_API_KEY"
    lines = [
        "vidgate is serving",
        f"  REST (OpenAI Videos API): {rest}",
        f"  gRPC:                     {settings.host}:{grpc_port}",
        f"  data:                     {settings.data_dir.resolve()}",
    ]
    if new_secret:
        lines += ["", "Created a development API key (shown only this once):", f"  {new_secret}"]
    elif settings.bootstrap_key:
        lines += ["", f"Accepting the bootstrap key from {env_name('bootstrap_key')}."]
    else:
        lines += ["", "API keys: `vidgate keys list`, or a new one with `vidgate keys create --name NAME`."]
    lines += [
        "",
        "Try it:",
        f"  curl -s {rest}/videos -H \"Authorization: Bearer {key}\" -F prompt='a paper boat drifting down a rainy street'",
        "",
    ]
    click.echo("\n".join(lines), err=False)
    sys.stdout.flush()


@main.group()
def keys() -> None:
    """Create, list and revoke API keys (safe while the server runs)."""


def _with_store(settings: Settings, action: Callable[[Any], Any]) -> Any:
    from vidgate.store.sqlite import SqliteStore

    async def run() -> Any:
        store = await SqliteStore.open(settings.db_path)
        try:
            return await action(store)
        finally:
            await store.close()

    return asyncio.run(run())


@keys.command("create")
@click.option("--name", default="unnamed", show_default=True, help="A label for the key.")
@click.option("--models", default=None, help="Comma-separated models the key may use (default: all).")
@settings_options(KEY_FLAGS)
def keys_create(name: str, models: str | None, **flags: Any) -> None:
    """Create a key and print it (the secret is shown only this once)."""
    from vidgate.auth import create_key

    settings = _settings(flags)
    allowed = frozenset(m.strip() for m in models.split(",") if m.strip()) if models else None
    if allowed is not None:
        known = {m.name for m in settings.models}
        unknown = sorted(allowed - known)
        if unknown:
            raise click.UsageError(f"--models: unknown model(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    new = _with_store(settings, lambda store: create_key(store, name=name, models=allowed))
    click.echo(f"id:     {new.record.id}\nname:   {new.record.name}\nmodels: {_models(new.record.allowed_models)}")
    click.echo(f"key:    {new.secret}")
    click.echo("Store the key now: it cannot be shown again.", err=True)


@keys.command("list")
@settings_options(KEY_FLAGS)
def keys_list(**flags: Any) -> None:
    """List keys (hints only, never secrets)."""
    records = _with_store(_settings(flags), lambda store: store.list_keys())
    click.echo(f"{'ID':<22} {'NAME':<16} {'KEY':<20} {'MODELS':<24} {'CREATED':<20} STATUS")
    for r in records:
        created = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(r.created_at))
        status = "revoked" if r.revoked_at else "active"
        click.echo(f"{r.id:<22} {r.name[:16]:<16} {r.hint:<20} {_models(r.allowed_models)[:24]:<24} {created:<20} {status}")


@keys.command("revoke")
@click.argument("key_id")
@settings_options(KEY_FLAGS)
def keys_revoke(key_id: str, **flags: Any) -> None:
    """Revoke a key by id; it stops working within seconds, also on a running server."""
    revoked = _with_store(_settings(flags), lambda store: store.revoke_key(key_id, int(time.time())))
    if not revoked:
        raise click.ClickException(f"no active key with id {key_id!r}")
    click.echo(f"revoked {key_id}")


def _models(models: frozenset[str] | None) -> str:
    return ",".join(sorted(models)) if models is not None else "all"


if __name__ == "__main__":
    main()
