"""A CLIP model switch on both engines: before the swap every image answer comes from the
old generation (model, query vector and neighbours), after it from the new one only; a
query that meets the swapped index before its process read the new model is answered by
the new model, whole; the old generation's vectors go once nothing searches them."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from discovery.config import Settings
from discovery.errors import GenerationMoved
from discovery.services import jobs
from discovery.services.assets import search_by_image, similar
from discovery.services.context import IMAGE_FIELD, Context
from discovery.services.image_results import ImageQuery
from discovery.services.model_switch import embed_assets, start_clip_switch, swap
from discovery.services.search import SearchRequest, search
from discovery.store.derive import all_docs

ENGINES = [pytest.param("embedded"), pytest.param("opensearch", marks=pytest.mark.opensearch)]
COLOURS = [(220, 30, 30), (30, 200, 40), (40, 60, 230), (240, 220, 20), (20, 20, 20), (200, 200, 200)]


def picture(rgb: tuple[int, int, int], i: int) -> bytes:
    image = Image.new("RGB", (96, 96), rgb)
    for x in range(0, 96, 8 + i):  # stripes, so no two files are the same picture
        for y in range(96):
            image.putpixel((x, y), (255 - rgb[0], 255 - rgb[1], 255 - rgb[2]))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture(params=ENGINES)
def ctx(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Context]:
    if request.param == "opensearch":
        url = request.getfixturevalue("opensearch_url")
        settings = Settings(
            data_dir=tmp_path / "var", backend="opensearch", opensearch_url=url,
            index_prefix=f"t{uuid.uuid4().hex[:10]}",
        )  # fmt: skip
    else:
        settings = Settings(data_dir=tmp_path / "var", backend="embedded")
    context = Context.open(settings)
    try:
        files = [(f"shot-{i}.png", picture(rgb, i)) for i, rgb in enumerate(COLOURS)]
        job = jobs.wait_for_job(context, jobs.start_asset_ingest(context, files=files))
        assert job["state"] == "succeeded", job
        context.backend.refresh()
        yield context
    finally:
        jobs.close_jobs(context)
        drop = getattr(context.backend, "drop", None)
        if drop is not None:
            drop()
        context.close()


def _self_match(ctx: Context) -> tuple[str, float]:
    """The model of an image search for the first picture, and its best hit's cosine (1.0
    when query vector and neighbours come from one model: the picture is among them)."""
    body: Any = search_by_image(ctx, picture(COLOURS[0], 0), query=ImageQuery(k=6, collapse=False), public=False)
    assert body["hits"]
    return str(body["model"]["clip"]), float(body["hits"][0]["cosine"])


def test_image_search_uses_only_the_old_generation_before_the_swap_and_only_the_new_after(ctx: Context) -> None:
    old = ctx.clip().model_id
    assert old.startswith("tiny@")
    start_model = ctx.clip_for({"model": "tiny-b", "pretrained": ""})
    new = start_model.model_id
    assert new.startswith("tiny-b@") and new != old
    ctx.records.vectors.begin(IMAGE_FIELD, active=old, active_spec={"model": "tiny"}, pending=new,
                              pending_spec={"model": "tiny-b", "pretrained": ""})  # fmt: skip
    assets = [a for batch in ctx.records.iter_assets() for a in batch]
    embedded, failed = embed_assets(ctx, start_model, assets)
    assert len(embedded) == len(COLOURS) and not failed
    assert {m: n for f, m, n in ctx.records.vector_counts() if f == IMAGE_FIELD} == {old: 6, new: 6}

    # Before the swap: the index holds the old generation only; answers are the old model's.
    assert _self_match(ctx) == (old, pytest.approx(1.0, abs=1e-4))
    with pytest.raises(GenerationMoved) as moved:
        ctx.backend.knn([1.0] * 64, field="image_vector", model=new, k=3, strict_model=True)
    assert moved.value.models == (old,)
    assert ctx.backend.knn([1.0] * 64, field="image_vector", model=new, k=3) == []  # not asked: none, as ever
    target = next(iter(ctx.records.get_assets([assets[0].id])))
    assert similar(ctx, target, query=ImageQuery(k=5), public=False)["model"] == {"clip": old}

    swap(ctx, start_model)

    ctx.clip_generation(fresh=True)
    assert ctx.clip().model_id == new
    assert _self_match(ctx) == (new, pytest.approx(1.0, abs=1e-4))
    assert similar(ctx, target, query=ImageQuery(k=5), public=False)["model"] == {"clip": new}
    with pytest.raises(GenerationMoved) as moved:
        ctx.backend.knn([1.0] * 64, field="image_vector", model=old, k=3, strict_model=True)
    assert moved.value.models == (new,)
    # The old generation's vectors are gone from the records once nothing searches them.
    assert {m: n for f, m, n in ctx.records.vector_counts() if f == IMAGE_FIELD} == {new: 6}


def test_a_query_meeting_the_swapped_index_before_its_process_reads_the_new_model_is_answered_by_the_new_model(
    ctx: Context,
) -> None:
    old = ctx.clip().model_id
    clip_b = ctx.clip_for({"model": "tiny-b", "pretrained": ""})
    ctx.records.vectors.begin(IMAGE_FIELD, active=old, active_spec={"model": "tiny"}, pending=clip_b.model_id,
                              pending_spec={"model": "tiny-b", "pretrained": ""})  # fmt: skip
    embed_assets(ctx, clip_b, [a for batch in ctx.records.iter_assets() for a in batch])
    # The window of a swap: the index is the new generation's, the records still name the old.
    ctx.backend.rebuild(all_docs(ctx.records, image_model=clip_b.model_id), fresh_vectors=("image_vector",))
    assert ctx.clip().model_id == old
    assert _self_match(ctx) == (clip_b.model_id, pytest.approx(1.0, abs=1e-4))
    # Text to image (semantic search): the query's text vector comes from the index's model too.
    body = search(ctx, SearchRequest(q="red stripes", type="asset", mode="semantic"))
    assert body["model"] == {"clip": clip_b.model_id} and body["hits"]


def test_models_use_job_switches_and_a_second_use_of_the_active_model_is_refused(ctx: Context) -> None:
    from discovery.errors import Conflict

    job = jobs.wait_for_job(ctx, start_clip_switch(ctx, model="tiny-b"))
    assert job["state"] == "succeeded", job
    assert job["progress"] == 1.0
    ctx.clip_generation(fresh=True)
    assert ctx.clip().model_id.startswith("tiny-b@")
    assert _self_match(ctx)[0].startswith("tiny-b@")
    with pytest.raises(Conflict, match="active image model already"):
        start_clip_switch(ctx, model="tiny-b")


def test_a_changed_clip_setting_without_a_switch_finds_nothing_rather_than_failing(ctx: Context) -> None:
    # No generation recorded: the configured model is the generation, and an index of
    # another model's vectors has no neighbours for it (as before generations existed).
    ctx.settings.clip.model = "tiny-b"
    assert ctx.clip().model_id.startswith("tiny-b@")
    body: Any = search_by_image(ctx, picture(COLOURS[0], 0), query=ImageQuery(k=6), public=False)
    assert body["hits"] == [] and str(body["model"]["clip"]).startswith("tiny-b@")
