"""The composed service: settings, the three stores and the models, built once per process
(in the API's lifespan or by a CLI command) and passed to service functions explicitly."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from discovery.config import Settings
from discovery.errors import IndexLayoutChanged
from discovery.foreground import Foreground
from discovery.services.doc_writer import DocWriter
from discovery.services.outbox import Outbox
from discovery.services.usage_buffer import UsageBuffer
from discovery.services.vector_sample import VectorSamples
from discovery.store.blobs import FilesystemBlobStore
from discovery.store.derive import all_docs
from discovery.store.index import make_backend
from discovery.store.index import synonyms as query_synonyms
from discovery.store.index.base import SearchBackend, VectorField
from discovery.store.index.synonyms import Synonyms
from discovery.store.records import Records
from discovery.store.vector_records import Generation
from models.taxonomy import load_taxonomy

if TYPE_CHECKING:  # the models are heavy (torch): imported only when first used
    from models.clip import ClipModel
    from models.text import TextModel

log = logging.getLogger(__name__)
IMAGE_FIELD: VectorField = "image_vector"
GENERATION_TTL_S = 1.0  # how stale a process's view of the active image model may be


def _limit_blas(threads: int) -> None:
    """numpy's BLAS (the exact kNN products) on `threads` threads, as torch: its idle
    threads spin after each product, taking the cores from the searches running beside
    it (in bench_search's process on 2 cores, a term matching every product: 5.0 -> 3.6 ms
    p50 with one thread)."""
    if threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads, user_api="blas")


@dataclass
class Context:
    settings: Settings
    records: Records
    backend: SearchBackend
    blobs: FilesystemBlobStore
    pool: ThreadPoolExecutor
    # Background writers, started on first use: usage analytics and webhook deliveries.
    usage: UsageBuffer = field(default_factory=UsageBuffer)
    webhooks: Outbox[object] = field(default_factory=lambda: Outbox("webhooks"))
    # Index documents owed by review decisions, written in batches (`owed_docs`).
    docs: DocWriter = field(default_factory=DocWriter)
    # Requests in flight, counted by the HTTP layer: in-process jobs step aside for them.
    foreground: Foreground = field(default_factory=Foreground)
    # Query-time synonyms: the taxonomy's and the user's file, read (and checked) at start.
    synonyms: Synonyms = field(default_factory=Synonyms)
    # A sample of each model's vectors: what image results calibrate their scores on.
    vector_samples: VectorSamples = field(default_factory=VectorSamples)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _clip: ClipModel | None = None
    _generation: tuple[float, Generation | None] | None = None
    _threads_set: bool = False
    _text: TextModel | None = None

    @classmethod
    def open(cls, settings: Settings) -> Context:
        # First: a malformed synonyms file stops the start before anything is opened.
        synonyms = query_synonyms.load(settings.search.synonyms_path, load_taxonomy().synonym_groups())
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        records = Records.open(settings.records_url)
        backend = make_backend(settings)
        _limit_blas(settings.torch_threads)  # after the engine loaded (FAISS brings its own BLAS)
        try:
            backend.ensure_ready()
        except IndexLayoutChanged as exc:
            # An upgrade changed how documents are laid out: the index is derived from
            # the records, so it is rebuilt from them rather than refusing to start.
            log.warning("%s: rebuilding it from the records", exc)
            report = backend.rebuild(all_docs(records))
            log.warning("index rebuilt: %d documents, %d failed", report.indexed, len(report.failed))
        ctx = cls(
            settings=settings,
            records=records,
            backend=backend,
            blobs=FilesystemBlobStore(settings.blob_dir),
            pool=ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="discovery"),
            synonyms=synonyms,
        )
        # What is loaded by now (the libraries, the index's id maps) lives as long as the
        # process. Python's full collections walked all of it: ~280 ms at 100,000
        # documents, twice in 300 searches, each landing on some request. Frozen objects
        # are left out of collections; `close` gives them back.
        gc.freeze()
        return ctx

    def close(self) -> None:
        # The background writers first: their last writes need the records and the index.
        self.usage.close()
        self.webhooks.close()
        self.docs.close()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.backend.close()
        self.records.close()
        gc.unfreeze()

    def _torch_threads(self) -> None:
        # Process-wide in torch, so set where the models load: 1 keeps a single query
        # embedding from fighting the other requests for both cores.
        if self.settings.torch_threads:
            import torch

            torch.set_num_threads(self.settings.torch_threads)

    def clip(self) -> ClipModel:
        """The CLIP model of the image vectors' active generation (the configured one until a
        `discovery models use` recorded another), loaded on first use, once per process
        through the factory. Every process follows a switch within `GENERATION_TTL_S`."""
        gen = self.clip_generation()
        spec = gen.active_spec if gen is not None else None
        model = self.clip_for(spec)
        self._clip = model
        return model

    def clip_generation(self, *, fresh: bool = False) -> Generation | None:
        """The image vectors' generation as the records name it, read at most once per
        `GENERATION_TTL_S` (`fresh`: now)."""
        now = time.monotonic()
        with self._lock:
            cached = self._generation
            if not fresh and cached is not None and now - cached[0] < GENERATION_TTL_S:
                return cached[1]
        gen = self.records.vectors.generation(IMAGE_FIELD)
        with self._lock:
            self._generation = (now, gen)
        return gen

    def clip_for(self, spec: Mapping[str, object] | None = None) -> ClipModel:
        """The CLIP model `spec` names (`{"model": ..., "pretrained": ...}`; None: the
        configured one), with this process's device, precision and cache settings."""
        from models.factory import load_clip

        c = self.settings.clip
        name = str(spec.get("model") or c.model) if spec else c.model
        pretrained = str(spec.get("pretrained") or "") if spec else c.pretrained
        with self._lock:
            if not self._threads_set:  # once: `clip()` runs for every search
                self._torch_threads()
                self._threads_set = True
            return load_clip(
                model=name,
                pretrained=pretrained,
                device=c.device,
                batch_size=c.batch_size,
                precision=c.precision,
                # Dynamic int8 scales depend on the batch, which moves the random tiny
                # model's near-identical vectors past each other: tiny stays float32.
                cpu_accel="none" if name.startswith("tiny") and c.cpu_accel == "auto" else c.cpu_accel,
                cache_dir=c.cache_dir or str(self.settings.data_dir / "models"),
                allow_download=c.allow_download,
                hub_url=c.hub_url,
                # A model a switch chose must be the one that runs: no silent tiny stand-in.
                fallback_to_tiny=c.fallback_tiny if spec is None else False,
            )

    def clip_status(self) -> dict[str, object]:
        """Which CLIP runs, without loading it: the configured one until it has loaded."""
        clip = self._clip
        if clip is not None:
            return clip.status()
        c = self.settings.clip
        return {"model": c.model, "configured": c.model, "pretrained": c.pretrained or None,
                "tiny": c.model == "tiny", "loaded": False, "fallback": None}  # fmt: skip

    def job_ended(self, job_id: str, state: str) -> None:
        """A job reached its final state: subscribers of `job.finished` hear of it."""
        from discovery.services.retention import release_job_uploads
        from discovery.services.webhooks import announce_job

        announce_job(self, job_id, state)
        release_job_uploads(self, job_id)

    def text(self) -> TextModel | None:
        """The text model, or None when semantic product search is switched off."""
        if not self.settings.text.enabled:
            return None
        with self._lock:
            if self._text is None:
                from models.factory import load_text

                self._torch_threads()
                t = self.settings.text
                self._text = load_text(model=t.model, batch_size=t.batch_size)
            return self._text
