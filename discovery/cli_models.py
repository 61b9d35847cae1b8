"""`discovery models`: which weights this machine holds, which the records' vectors came from,
fetching and checking them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from discovery.config import Settings, get_settings

models_app = typer.Typer(no_args_is_help=True, help="Model weights and vector generations: list, pull, verify, use.")
console = Console(stderr=True)


def cache_dir(settings: Settings) -> Path:
    return Path(settings.clip.cache_dir or settings.data_dir / "models")


@models_app.command("list")
def models_list() -> None:
    """The configured models, the weights in the cache, and what the stored vectors were made with."""
    from discovery.store.records import Records
    from models import hub_download

    settings = get_settings()
    clip, text = settings.clip, settings.text
    typer.echo(f"configured  clip {clip.model}/{clip.pretrained or '-'}  text {text.model}")
    typer.echo(f"cache       {cache_dir(settings)}")
    root = cache_dir(settings)
    files = hub_download.installed(root)
    for file in files:
        typer.echo(f"  {file.path.relative_to(root)}  {file.size / 1e6:,.0f} MB  sha256 {file.sha256[:12]}")
    if not files:
        typer.echo("  (no downloaded weights)")
    records = Records.open(settings.records_url)
    try:
        counts = records.vector_counts()
        gens = {f: g for f in ("image_vector", "text_vector") if (g := records.vectors.generation(f)) is not None}
    finally:
        records.close()
    typer.echo("vectors in the records")
    for field, model, count in sorted(counts):
        gen = gens.get(field)
        state = "" if gen is None else "active" if model == gen.active else "next" if model == gen.pending else "old"
        typer.echo(f"  {field:<13} {model:<50} {count:>9,}  {state}".rstrip())
    if not counts:
        typer.echo("  (none)")
    for field, gen in gens.items():
        spec, setting = gen.active_spec, "DISCOVERY_CLIP_MODEL" if field == "image_vector" else "the setting"
        chose = f"{spec.get('model')}/{spec.get('pretrained') or '-'}"
        typer.echo(
            f"{field} searches use {gen.active} (`discovery models use` chose {chose}; it wins over {setting})"
            + (f"; a switch to {gen.pending} is filling the next generation" if gen.pending else "")
        )


@models_app.command("pull")
def models_pull(
    name: Annotated[str | None, typer.Argument(help="open_clip architecture; the configured one when left out")] = None,
    tag: Annotated[str | None, typer.Option(help="pretrained tag; the configured one when left out")] = None,
) -> None:
    """Fetch CLIP weights into the cache (verified) without starting the service."""
    from models.clip_source import pull_weights
    from models.errors import ModelUnavailable

    settings = get_settings()
    arch, pretrained = name or settings.clip.model, tag or settings.clip.pretrained
    if arch == "tiny" or not pretrained:
        console.print(f"{arch} with {pretrained or 'no'} pretrained tag has nothing to download")
        return
    try:
        path = pull_weights(arch, pretrained, cache_dir=str(cache_dir(settings)), hub_url=settings.clip.hub_url)
    except ModelUnavailable as exc:
        console.print(f"[red]error[/]: {exc}")
        raise typer.Exit(1) from None
    typer.echo(path)


@models_app.command("verify")
def models_verify() -> None:
    """Re-hash every downloaded weights file against the checksum it was verified with."""
    from models import hub_download

    settings = get_settings()
    bad = 0
    for file in hub_download.installed(cache_dir(settings)):
        why = hub_download.verify(file)
        bad += why is not None
        typer.echo(f"{'ok ' if why is None else 'BAD'}  {file.path}" + (f"  ({why})" if why else ""))
    if bad:
        console.print(f"{bad} file(s) differ from their download: `discovery models pull` fetches them again")
        raise typer.Exit(1)

