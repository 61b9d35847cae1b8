"""The `discovery` command line: serve, demo, ingest, reindex, worker, keys, bench."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from discovery.cli_errors import FAILED, check_product_import, import_outcome, one_line_errors
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
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        access_log=settings.access_log,
    )


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
) -> None:
    """Import a product export, with a progress bar and the report at the end."""
    from discovery.services.ingest import import_product_file

    settings = get_settings()
    with one_line_errors(console):
        check_product_import(file, mapping=mapping, mode=mode, data_dir=settings.data_dir)
        report = import_product_file(settings, file, mapping=mapping, mode=mode, progress=_progress())
    _print_report(report)
    why = import_outcome(report)
    if why is not None:
        console.print(f"error: {why}", markup=False, highlight=False)
        raise typer.Exit(FAILED)


@ingest_app.command("assets")
def ingest_assets(
    paths: Annotated[list[Path], typer.Argument(exists=True, help="files, directories or zips")],
    manifest: Annotated[Path | None, typer.Option(help="CSV of sku,file[,license,credit,expires_at,channels]")] = None,
    collection: Annotated[str | None, typer.Option(help="put the assets in this collection")] = None,
) -> None:
    """Ingest image and PDF files."""
    from discovery.services.ingest import ingest_asset_paths

    with one_line_errors(console):
        report = ingest_asset_paths(
            get_settings(), paths, manifest=manifest, collection=collection, progress=_progress()
        )
    _print_report(report)


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
