"""The `discovery` command line: serve, demo, ingest, reindex, gc, worker, keys, bench."""

from __future__ import annotations

import json
import os
import runpy
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from discovery.cli_errors import FAILED, check_product_import, import_outcome, one_line_errors
from discovery.cli_models import models_app
from discovery.config import Settings, get_settings
from discovery.domain import JSONObject

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Product-content discovery service.")
ingest_app = typer.Typer(no_args_is_help=True, help="Import product exports or asset files.")
keys_app = typer.Typer(no_args_is_help=True, help="API keys.")
app.add_typer(ingest_app, name="ingest")
app.add_typer(keys_app, name="keys")
app.add_typer(models_app, name="models")
console = Console(stderr=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to bind")] = None,
    port: Annotated[int | None, typer.Option(help="port to bind")] = None,
) -> None:
    """Serve the API and the UI."""
    import uvicorn

    from discovery.api.app import create_app

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    uvicorn.run(
        create_app(settings, serve_url=f"http://{_url_host(host)}:{port}"),
        host=host,
        port=port,
        log_level="info",
        access_log=settings.access_log,
    )


def _url_host(bound: str) -> str:
    """Where a local command reaches a server bound to `bound`."""
    return "127.0.0.1" if bound in ("0.0.0.0", "::", "") else bound


ServerOpt = Annotated[
    str | None,
    typer.Option(help="hand the job to this running server (default: the one using the data dir, if any)"),
]
KeyOpt = Annotated[str | None, typer.Option(help="editor API key for --server (default: the data dir's local.key)")]


def _server(url: str | None, key: str | None) -> tuple[str, str | None] | None:
    """The server to hand a job to: `--server`, else the one announced in the data dir."""
    from discovery.api.local_link import find_server

    data_dir = get_settings().data_dir
    found = find_server(data_dir)
    if url:
        return url.rstrip("/"), key or (found.key if found else None)
    if found is None:
        return None
    console.print(f"a server (pid {found.pid}) is using {data_dir}: handing the job to {found.url}")
    return found.url, key or found.key


def _handed(call: Callable[[], JSONObject]) -> JSONObject:
    from discovery.services.ingest import ServerRefused

    try:
        return call()
    except (ServerRefused, httpx.HTTPError) as exc:
        console.print(f"[red]error[/]: {exc}")
        raise typer.Exit(1) from None


@app.command()
def demo(
    products: Annotated[int, typer.Option(help="how many sample products to generate")] = 200,
    seed: Annotated[int, typer.Option(help="generator seed")] = 7,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="ingest, then exit")] = False,
    host: Annotated[str | None, typer.Option(help="address to bind")] = None,
    port: Annotated[int | None, typer.Option(help="port to bind")] = None,
) -> None:
    """Generate the sample catalog, ingest it, and serve API + UI."""
    from discovery.services.demo import load_demo

    settings = get_settings()
    info = load_demo(settings, products=products, seed=seed, console=console)
    keys = _demo_keys(settings)
    word = info.get("sample_word", "hoodie")
    url = f"http://{host or settings.host}:{port or settings.port}"
    console.print(f"[bold]Discovery demo[/]: {info.get('products')} products, {info.get('assets')} assets")
    console.print(f"  UI      {url}/   (API docs: {url}/docs)")
    console.print(f"  search  curl '{url}/api/search?q={word}&facets=brand'")
    console.print("  keys    the UI asks for one on Review (reviewer) and Imports (editor); X-API-Key for curl:")
    for role, key in keys.items():
        console.print(f"          {role:<9}{key}", soft_wrap=True)
    console.print(f"          kept in {settings.data_dir / DEMO_KEYS_FILE}; more: discovery keys create --role ROLE")
    if not no_serve:
        serve(host=host, port=port)


DEMO_KEYS_FILE = "demo-keys.json"


def _demo_keys(settings: Settings) -> dict[str, str]:
    """A reviewer, an editor and an admin key for the demo's UI, kept in the data dir (owner
    only) so that a second `discovery demo` prints the same ones; one revoked or lost is made
    anew. The records store only their hashes, so the file is the one place they are kept."""
    from discovery.api.auth import create_key, hash_key
    from discovery.store.records import Records

    path = settings.data_dir / DEMO_KEYS_FILE
    try:
        kept = json.loads(path.read_text())
    except (OSError, ValueError):
        kept = {}
    records = Records.open(settings.records_url)
    try:
        keys: dict[str, str] = {}
        for role in ("reviewer", "editor", "admin"):
            key = kept.get(role) if isinstance(kept, dict) else None
            if not isinstance(key, str) or records.role_for_key_hash(hash_key(key)) != role:
                key = create_key(records, role=role, name="demo")
            keys[role] = key
    finally:
        records.close()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(keys, out)
    return keys


LinkRuleOpt = Annotated[
    str | None,
    typer.Option(help="filename (default): link files to products by SKUs in their names; none: no such links"),
]
LinkPatternOpt = Annotated[
    str | None, typer.Option(help="the file-name rule as a regular expression with a (?P<sku>...) group")
]


def _print_links(links: object) -> None:
    """The job's links: made (by how), suggested for review and ambiguous, with the files."""
    if not isinstance(links, dict) or not links.get("counts"):
        return
    console.print(f"  links {links['counts']}", markup=False, highlight=False)
    for outcome in ("suggested", "ambiguous"):
        entries = links.get(outcome)
        for entry in (entries if isinstance(entries, list) else [])[:20]:
            if isinstance(entry, dict):
                who = entry.get("sku") or ", ".join(map(str, entry.get("candidates") or []))
                console.print(f"  {outcome} {entry.get('file')} -> {who}: {entry.get('reason', '')}", markup=False)


def _run_import(
    server: str | None,
    key: str | None,
    *,
    via: Callable[..., JSONObject],
    local: Callable[..., JSONObject],
    **options: object,
) -> JSONObject:
    """One import, handed to a running server (`via(url, key, **options)`) when there is one,
    else run here (`local(**options)`); either way with a progress bar and the same options,
    so an option added to a command reaches both paths."""
    target = _server(server, key)
    if target is not None:
        url, api_key = target
        return _handed(lambda: via(url, api_key, progress=_progress(), **options))
    return local(progress=_progress(), **options)


@ingest_app.command("products")
def ingest_products(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV, TSV, JSONL, JSON or XLSX export")],
    mapping: Annotated[str | None, typer.Option(help="mapping name (shipped: shopify, magento2, akeneo)")] = None,
    mode: Annotated[str, typer.Option(help="partial (default) or full: full withdraws SKUs absent from the file")] = (
        "partial"
    ),
    link_rule: LinkRuleOpt = None,
    link_pattern: LinkPatternOpt = None,
    server: ServerOpt = None,
    key: KeyOpt = None,
) -> None:
    """Import a product export, with a progress bar and the report at the end."""
    from discovery.services.ingest import import_product_file, import_product_file_via

    settings = get_settings()
    with one_line_errors(console):
        check_product_import(file, mapping=mapping, mode=mode, data_dir=settings.data_dir)
        report = _run_import(
            server, key,
            via=lambda url, api_key, **options: import_product_file_via(url, api_key, file, **options),
            local=lambda **options: import_product_file(settings, file, **options),
            mapping=mapping, mode=mode, link_rule=link_rule, link_pattern=link_pattern,
        )  # fmt: skip
    _print_report(report)
    state = report.get("state")
    why = import_outcome(report) or (None if state == "succeeded" else f"the job ended {state}")
    if why is not None:
        console.print(f"error: {why}", markup=False, highlight=False)
        raise typer.Exit(FAILED)


@ingest_app.command("assets")
def ingest_assets(
    paths: Annotated[list[Path], typer.Argument(exists=True, help="files, directories or zips")],
    manifest: Annotated[Path | None, typer.Option(help="CSV of sku,file[,license,credit,expires_at,channels]")] = None,
    collection: Annotated[str | None, typer.Option(help="put the assets in this collection")] = None,
    link_rule: LinkRuleOpt = None,
    link_pattern: LinkPatternOpt = None,
    server: ServerOpt = None,
    key: KeyOpt = None,
) -> None:
    """Ingest image and PDF files."""
    from discovery.services.ingest import ingest_asset_paths, ingest_asset_paths_via

    with one_line_errors(console):
        report = _run_import(
            server, key,
            via=lambda url, api_key, **options: ingest_asset_paths_via(url, api_key, paths, **options),
            local=lambda **options: ingest_asset_paths(get_settings(), paths, **options),
            manifest=manifest, collection=collection, link_rule=link_rule, link_pattern=link_pattern,
        )  # fmt: skip
    _print_report(report)
    if report.get("state") != "succeeded":
        raise typer.Exit(1)


def _print_report(report: JSONObject) -> None:
    console.print(f"[bold]{report.get('state', 'done')}[/] {report.get('counts', {})}")
    rejects = report.get("rejects")
    rejects = rejects if isinstance(rejects, list) else []
    for reject in rejects[:50]:
        if not isinstance(reject, dict):
            continue
        where = ":".join(str(reject.get(k)) for k in ("file", "line") if reject.get(k) is not None)
        field = f" [{reject.get('field')}]" if reject.get("field") else ""
        console.print(f"  rejected {where}{field}: {reject.get('reason')}")
    if len(rejects) > 50:
        console.print(f"  ... and {len(rejects) - 50} more (GET /api/jobs/<id> for all)")
    _print_links(report.get("links"))
    # The last line on stdout, for scripts: the job's state and counts.
    typer.echo(json.dumps({"job": report.get("id"), "state": report.get("state"), "counts": report.get("counts")}))


@app.command()
def reindex() -> None:
    """Build a new index version from the records, then swap it in atomically."""
    from discovery.services.context import Context
    from discovery.services.reindex import reindex as rebuild

    ctx = Context.open(get_settings())
    try:
        with _progress() as progress:
            task = progress.add_task("reindex", total=None)
            result = rebuild(ctx, progress=lambda n: progress.update(task, completed=n))
        console.print(f"reindexed {result['indexed']} documents, {result['failed']} failed")
        for kind in ("failures", "warnings"):
            items = result.get(kind)
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict):
                    console.print(f"  {item.get('id')}: {item.get('error')}")
        if result["failed"]:
            raise typer.Exit(1)
    finally:
        ctx.close()


@models_app.command("use")
def models_use(
    name: Annotated[str, typer.Argument(help="open_clip architecture (or tiny, tiny-b) to embed images with")],
    tag: Annotated[str, typer.Option(help="pretrained tag or checkpoint file; empty: random weights")] = "",
    server: ServerOpt = None,
    key: KeyOpt = None,
) -> None:
    """Switch the CLIP image model: re-embed every asset into a new vector generation while
    searches use the old one, then swap atomically (a job: GET /api/jobs/{id})."""
    from discovery.services.ingest import use_clip_model, use_clip_model_via

    with one_line_errors(console):
        target = _server(server, key)
        if target is not None:
            report = _handed(lambda: use_clip_model_via(*target, model=name, pretrained=tag, progress=_progress()))
        else:
            report = use_clip_model(get_settings(), model=name, pretrained=tag, progress=_progress())
    _print_report(report)
    if report.get("state") != "succeeded":
        raise typer.Exit(1)


@app.command()
def worker() -> None:
    """Run a Celery worker (needs DISCOVERY_REDIS_URL) and the reconciler."""
    from discovery.services.jobs import run_worker

    settings = get_settings()
    if not settings.redis_url:
        console.print("DISCOVERY_REDIS_URL is not set: jobs run in-process, no worker is needed")
        raise typer.Exit(2)
    run_worker(settings)


@app.command("worker-ping")
def worker_ping(
    timeout: Annotated[float, typer.Option(help="seconds to wait for an answer")] = 5.0,
    any_host: Annotated[bool, typer.Option("--any-host", help="any worker, not only this host's")] = False,
) -> None:
    """Exit 0 when a worker on this host answers a ping through Redis (a healthcheck), else 1."""
    import socket

    from indexer.jobs.worker import answering_workers

    settings = get_settings()
    if not settings.redis_url:
        console.print("DISCOVERY_REDIS_URL is not set: jobs run in-process, there is no worker to ping")
        raise typer.Exit(2)
    names = answering_workers(settings, host=None if any_host else socket.gethostname(), timeout=timeout)
    if not names:
        console.print(f"no worker answered within {timeout:g} s")
        raise typer.Exit(1)
    typer.echo("\n".join(names))


@app.command()
def gc(
    delete: Annotated[bool, typer.Option("--delete", help="delete what is listed (default: list only)")] = False,
) -> None:
    """List (or with --delete, remove) blobs nothing names, abandoned upload files and index
    versions nobody serves. See DISCOVERY_RETENTION_* for what is kept."""
    from discovery.services.retention import collect_garbage

    found = collect_garbage(get_settings(), delete=delete)
    verb = "deleted" if found.deleted else "would delete"
    for title, group in (("blob", found.blobs), ("temporary file", found.temporary),
                         ("index version", found.index_versions)):  # fmt: skip
        for name, size in group:
            typer.echo(f"{verb} {title} {name} ({size} bytes)")
    typer.echo(
        f"{verb} {len(found.blobs)} blob(s), {len(found.temporary)} temporary file(s), "
        f"{len(found.index_versions)} index version(s): {found.total_bytes} bytes"
        + ("" if found.deleted else " (dry run; --delete to remove)")
    )


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="public, viewer, reviewer, editor or admin")],
    name: Annotated[str | None, typer.Option(help="who holds it (shown by `keys list` and as who decided)")] = None,
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    from discovery.api.auth import ROLES, create_key
    from discovery.store.records import Records

    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}")
    records = Records.open(get_settings().records_url)
    try:
        typer.echo(create_key(records, role=role, name=name))
    finally:
        records.close()


@keys_app.command("list")
def keys_list(
    all_keys: Annotated[bool, typer.Option("--all", help="include revoked keys")] = False,
) -> None:
    """List the keys: id, name, role, created, revoked (never the key itself)."""
    from discovery.store.records import Records

    records = Records.open(get_settings().records_url)
    try:
        rows = records.list_keys(include_revoked=all_keys)
    finally:
        records.close()
    typer.echo(f"{'id':<10} {'name':<24} {'role':<9} {'created':<25} revoked")
    for row in rows:
        name = str(row.get("name") or "-")
        typer.echo(f"{row['id']!s:<10} {name:<24} {row['role']!s:<9} {row['created_at']!s:<25} {row['revoked']}")


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="the key's id (as `keys list` shows it)")]) -> None:
    """Revoke a key: it answers 401 from its next request on, in a running server too."""
    from discovery.store.records import Records

    records = Records.open(get_settings().records_url)
    try:
        if not records.revoke_key(key_id):
            console.print(f"no API key {key_id!r} (see `discovery keys list`)")
            raise typer.Exit(1)
    finally:
        records.close()
    console.print(f"revoked {key_id}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(ctx: typer.Context, name: Annotated[str, typer.Argument(help="a script in bench/, e.g. search")]) -> None:
    """Run a benchmark script from bench/ (it prints its figures)."""
    root = Path(__file__).resolve().parents[1] / "bench"
    script = root / f"bench_{name}.py"
    if not script.exists():
        names = sorted(p.stem.removeprefix("bench_") for p in root.glob("bench_*.py"))
        raise typer.BadParameter(f"no bench {name!r}; have: {', '.join(names)}")
    sys.argv = [str(script), *ctx.args]
    runpy.run_path(str(script), run_name="__main__")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
