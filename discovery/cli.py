"""The `discovery` command line: serve, demo, ingest, reindex, worker, keys, bench."""

from __future__ import annotations

import json
import runpy
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from discovery.config import get_settings
from discovery.domain import JSONObject

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Product-content discovery service.")
ingest_app = typer.Typer(no_args_is_help=True, help="Import product exports or asset files.")
keys_app = typer.Typer(no_args_is_help=True, help="API keys.")
app.add_typer(ingest_app, name="ingest")
app.add_typer(keys_app, name="keys")
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
    word = info.get("sample_word", "hoodie")
    url = f"http://{host or settings.host}:{port or settings.port}"
    console.print(f"[bold]Discovery demo[/]: {info.get('products')} products, {info.get('assets')} assets")
    console.print(f"  UI      {url}/")
    console.print(f"  search  curl '{url}/api/search?q={word}&facets=brand'")
    if not no_serve:
        serve(host=host, port=port)


@ingest_app.command("products")
def ingest_products(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV, TSV, JSONL, JSON or XLSX export")],
    mapping: Annotated[str | None, typer.Option(help="mapping name (shipped: shopify, magento2, akeneo)")] = None,
    mode: Annotated[str, typer.Option(help="partial (default) or full: full withdraws SKUs absent from the file")] = (
        "partial"
    ),
    server: ServerOpt = None,
    key: KeyOpt = None,
) -> None:
    """Import a product export, with a progress bar and the report at the end."""
    from discovery.services.ingest import import_product_file, import_product_file_via

    if mode not in ("partial", "full"):
        raise typer.BadParameter("mode must be partial or full")
    target = _server(server, key)
    if target is not None:
        report = _handed(
            lambda: import_product_file_via(*target, file, mapping=mapping, mode=mode, progress=_progress())
        )
    else:
        report = import_product_file(get_settings(), file, mapping=mapping, mode=mode, progress=_progress())
    _print_report(report)
    if report.get("state") != "succeeded":
        raise typer.Exit(1)


@ingest_app.command("assets")
def ingest_assets(
    paths: Annotated[list[Path], typer.Argument(exists=True, help="files, directories or zips")],
    manifest: Annotated[Path | None, typer.Option(help="CSV of sku,file[,license,credit,expires_at,channels]")] = None,
    collection: Annotated[str | None, typer.Option(help="put the assets in this collection")] = None,
    server: ServerOpt = None,
    key: KeyOpt = None,
) -> None:
    """Ingest image and PDF files."""
    from discovery.services.ingest import ingest_asset_paths, ingest_asset_paths_via

    target = _server(server, key)
    if target is not None:
        report = _handed(
            lambda: ingest_asset_paths_via(
                *target, paths, manifest=manifest, collection=collection, progress=_progress()
            )
        )
    else:
        report = ingest_asset_paths(
            get_settings(), paths, manifest=manifest, collection=collection, progress=_progress()
        )
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
        failures = result["failures"]
        for item in failures if isinstance(failures, list) else []:
            if isinstance(item, dict):
                console.print(f"  {item.get('id')}: {item.get('error')}")
        if result["failed"]:
            raise typer.Exit(1)
    finally:
        ctx.close()


@app.command()
def worker() -> None:
    """Run a Celery worker (needs DISCOVERY_REDIS_URL) and the reconciler."""
    from discovery.services.jobs import run_worker

    settings = get_settings()
    if not settings.redis_url:
        console.print("DISCOVERY_REDIS_URL is not set: jobs run in-process, no worker is needed")
        raise typer.Exit(2)
    run_worker(settings)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="public, viewer, reviewer, editor or admin")],
    name: Annotated[str | None, typer.Option(help="a note on who holds it")] = None,
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
