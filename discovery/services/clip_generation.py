"""Queries that embed with CLIP and search the image vectors follow the index's generation.

A process reads the active image model from the records at most once a second
(`Context.clip_generation`), and a model switch swaps the index's generation before it
records the new model as active. A query that meets the index of the other generation is
told so by the engine (`GenerationMoved`: no vector of its model, another model's only),
never answered with neighbours of two models, and runs once more, whole, with the model
the index holds: its query vector then comes from the same model as the neighbours. The
other way round too: a process whose index has not yet followed a swap another process
made answers with the generation its index holds (the records keep the previous one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from discovery.errors import GenerationMoved
from discovery.services.context import Context

if TYPE_CHECKING:
    from models.clip import ClipModel

T = TypeVar("T")


RETRIES = 3  # an index moves forward only: a query meets at most a swap and its follow-up


def with_clip(ctx: Context, run: Callable[[ClipModel], T]) -> T:
    """`run(clip)` with the active CLIP model, or, when a switch moved the index's image
    generation under it, again with the model the index holds by then."""
    clip = ctx.clip()
    for _ in range(RETRIES):
        try:
            return run(clip)
        except GenerationMoved as moved:
            other = clip_for_models(ctx, moved.models)
            if other is None:
                raise
            clip = other
    return run(clip)


def moved_or_nothing(ctx: Context, moved: GenerationMoved) -> None:
    """After a kNN query met an index without its model: raise `moved` again when a
    generation the records name is in the index (`with_clip` then asks again with it);
    else return, and the query has no neighbours, as before there were generations (a
    changed `DISCOVERY_CLIP_MODEL` or a tiny fallback before a re-embed)."""
    if clip_for_models(ctx, moved.models) is not None:
        raise moved


def clip_for_models(ctx: Context, held: tuple[str, ...]) -> ClipModel | None:
    """The CLIP model of the records' active, pending or previous generation that is among
    `held` (the models the index holds), read fresh from the records. The previous one: in
    a process whose index has not yet followed the swap, the answer is the old model's."""
    gen = ctx.clip_generation(fresh=True)
    if gen is None:
        return None
    choices = ((gen.active, gen.active_spec), (gen.pending, gen.pending_spec), (gen.previous, gen.previous_spec))
    for model_id, spec in choices:
        if model_id in held and spec:
            return ctx.clip_for(spec)
    return None


def stored_vector_search(ctx: Context, target: str, run: Callable[[str, np.ndarray], T]) -> T | None:
    """`run(model, vector)` with `target`'s stored image vector of the active generation,
    or of the generation the index holds when a switch moved it. None: no vector."""
    vec = ctx.records.get_vectors("image_vector", [target]).get(target)
    if vec is None:
        return None
    try:
        return run(vec[0], vec[1])
    except GenerationMoved as moved:
        for model in moved.models:
            other = ctx.records.get_vectors("image_vector", [target], model=model).get(target)
            if other is not None:
                return run(model, other[1])
        raise
