"""The one typed Settings object. Nothing else in the project reads the environment.

Flat names follow the public contract in docs/DESIGN.md (``DISCOVERY_BACKEND``,
``DISCOVERY_DATABASE_URL`` ...). Groups take one underscore after their name:
``DISCOVERY_CLIP_MODEL`` sets ``clip.model``, ``DISCOVERY_SEARCH_RRF_K`` sets
``search.rrf_k``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "password", "xxx"}


class ClipSettings(BaseModel):
    """The image/text model behind similarity search and tag suggestions."""

    # ViT-B-32 on LAION-2B: 66.6 % ImageNet zero-shot (open_clip's published table) at 4.4 GFLOPs an
    # image; ViT-B-16 reaches 70.2 % for four times the compute, too dear on a 2-core CPU.
    model: str = Field(
        "ViT-B-32", description="open_clip architecture, e.g. ViT-B-32, or `tiny` (random weights, tests)"
    )
    pretrained: str = Field(
        "laion2b_s34b_b79k",
        description="open_clip pretrained tag or a local checkpoint path; empty for random weights",
    )
    device: str = Field("auto", description="`auto` (cuda when present), `cuda` or `cpu`")
    batch_size: int = Field(32, ge=1, description="images per forward pass")
    cpu_accel: Literal["auto", "none", "int8", "onnx-int8"] = Field(
        "auto", description="CPU speed-up of the image tower: int8 (torch), onnx-int8 (onnxruntime), auto picks one"
    )
    cache_dir: str = Field(
        "", description="where CLIP weights and the exported ONNX graph are kept; empty for `<data_dir>/models`"
    )
    allow_download: bool = Field(True, description="let CLIP fetch pretrained weights from the hub (false offline)")
    hub_url: str = Field("https://huggingface.co", description="model hub that pretrained CLIP weights come from")
    fallback_tiny: bool = Field(
        True, description="run the tiny random model (and say so) when the configured weights cannot be had"
    )
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto", description="bf16 on CUDA when `auto`, fp32 on CPU"
    )


class TextSettings(BaseModel):
    """The sentence-transformers model behind semantic product search."""

    model: str = Field("all-MiniLM-L6-v2", description="sentence-transformers model name or local path")
    enabled: bool = Field(True, description="embed product text for semantic and hybrid search")
    batch_size: int = Field(64, ge=1, description="texts per forward pass")


class SearchSettings(BaseModel):
    """Ranking knobs shared by both engines."""

    rrf_k: int = Field(60, ge=1, description="reciprocal rank fusion constant")
    semantic_floor: float = Field(
        0.25, description="text model: minimum cosine for a semantic match to join the match set"
    )
    semantic_ratio: float = Field(
        0.8, ge=0, le=1, description="text model: a semantic match needs this share of the best hit's cosine"
    )
    clip_floor: float = Field(0.2, description="CLIP text-to-image: minimum cosine for a semantic asset match")
    clip_ratio: float = Field(
        0.9, ge=0, le=1, description="CLIP text-to-image: a semantic match needs this share of the best hit's cosine"
    )
    image_floor: float = Field(
        0.0,
        ge=-1,
        le=1,
        description="image search and similar assets: the calibrated score a neighbour needs to join the match set "
        "(0: closer than the query's median cosine to the catalog); the tiny test model has none",
    )
    max_size: int = Field(100, ge=1, description="largest page size a caller may ask for")
    exact_knn_limit: int = Field(
        200_000,
        ge=0,
        description="embedded engine: exact vector search up to this many 64-d vectors (proportionally fewer of "
        "more dimensions: 33,333 of 384), HNSW beyond",
    )
    facet_size: int = Field(10, ge=1, description="default number of values returned per facet")
    track_total_limit: int = Field(10_000, ge=1, description="totals are exact up to this and a lower bound beyond")
    synonyms_path: str = Field(
        "",
        description="a synonyms file added to the taxonomy's synonyms (lines `a, b, c` two-way, `a => b, c` "
        "one-way; see docs/DESIGN.md); empty for the taxonomy's alone",
    )
    max_offset: int = Field(
        1_000,
        ge=1,
        le=10_000,
        description="page * size may reach this many hits (deeper offsets cost every hit before them); "
        "the cursor pages on beyond",
    )


class Settings(BaseSettings):
    """Everything the service reads from its environment, validated at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="DISCOVERY_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="ignore",
    )

    backend: Literal["embedded", "opensearch"] = Field(
        "embedded", description="search engine: embedded (tantivy + numpy/FAISS) or opensearch"
    )
    data_dir: Path = Field(Path("var"), description="where the embedded index, SQLite database and blobs live")
    database_url: str = Field(
        "", description="SQLAlchemy URL of the records database; empty means SQLite under data_dir"
    )
    opensearch_url: str = Field(
        "http://127.0.0.1:9200",
        description="OpenSearch endpoint when backend=opensearch; a cluster's nodes separated by commas "
        "(requests go round-robin and move on from a node that stops answering)",
    )
    opensearch_shards: int = Field(
        1, ge=1, description="primary shards of a new index version: 1 (facet counts and totals exact) on one node; "
        "a cluster may spread writes over its nodes with more (approximate counts past each shard's top terms)",
    )
    opensearch_replicas: int = Field(
        0, ge=0, description="copies of each shard on other nodes: 0 on one node, 1 on a cluster (a node may be lost)"
    )
    index_prefix: str = Field(
        "discovery", description="prefix of every index name (OpenSearch) or directory (embedded)"
    )
    redis_url: str = Field("", description="Redis URL for the Celery broker; empty runs jobs in-process")
    host: str = Field("127.0.0.1", description="address `discovery serve` binds")
    port: int = Field(8000, description="port `discovery serve` binds")
    read_key_required: bool = Field(False, description="require an API key for reads too")
    anonymous_role: Literal["public", "viewer"] = Field(
        "viewer", description="what a caller without a key sees: `public` (shopper view) or `viewer` (internal)"
    )
    admin_key: str = Field("", description="bootstrap admin API key; empty for none")
    access_log: bool = Field(
        False, description="log every request line (uvicorn's access log); a proxy in front usually does"
    )
    cors_origins: list[str] = Field(default_factory=list, description="origins allowed by CORS")
    max_upload_mb: int = Field(512, ge=1, description="largest request body accepted by upload endpoints")
    collection_download_max_mb: int = Field(
        2048, ge=1, description="largest total of files a collection's zip download may hold"
    )
    webhook_allow_hosts: list[str] = Field(
        default_factory=list,
        description="hosts webhooks may reach even on loopback or private addresses (JSON list)",
    )
    webhook_max_attempts: int = Field(
        5, ge=1, description="delivery attempts per webhook event before it is logged as failed"
    )
    webhook_retry_seconds: float = Field(
        2.0, gt=0, description="wait before the first webhook retry; doubles per attempt, capped at 300 s"
    )
    webhook_timeout_seconds: float = Field(5.0, gt=0, description="seconds to wait for a webhook receiver to answer")
    analytics_flush_seconds: float = Field(
        5.0, gt=0, description="how often buffered usage analytics are written to the records"
    )
    analytics_events_per_minute: int = Field(
        60, ge=1, description="click events one caller (key and session, or address without a key) may post a minute"
    )
    analytics_count_anonymous: bool = Field(
        False, description="let events of callers without a key count towards popularity (`sort=popular`)"
    )
    workers: int = Field(2, ge=1, description="threads for decoding and inference, and for in-process jobs")
    job_lease_seconds: float = Field(
        60.0, ge=2.0, description="a job chunk whose holder is silent this long is taken back and run again"
    )
    api_threads: int = Field(
        4, ge=1, description="requests the API works on at once; more wait their turn (2 cores: 4)"
    )
    torch_threads: int = Field(
        1,
        ge=0,
        description="torch and numpy BLAS threads per call in this process (0: one per core, for batch workers)",
    )
    retention_index_versions: int = Field(
        1, ge=0, description="previous index versions kept beside the current one; `discovery gc` removes older ones"
    )
    retention_min_age_minutes: float = Field(
        60.0, ge=0, description="`discovery gc` spares blobs, temporary files and unpublished index versions younger "
        "than this (uploads and rebuilds in progress)",
    )
    retention_release_uploads: bool = Field(
        True, description="when a job ends, delete its uploaded files no asset kept (rejected files, zips, "
        "manifests, import batches)",
    )
    clip: ClipSettings = Field(default_factory=ClipSettings, description="CLIP model group")
    text: TextSettings = Field(default_factory=TextSettings, description="text embedding group")
    search: SearchSettings = Field(default_factory=SearchSettings, description="ranking group")

    @field_validator("admin_key")
    @classmethod
    def _refuse_placeholder(cls, value: str) -> str:
        if value and value.lower() in PLACEHOLDER_SECRETS:
            raise ValueError("DISCOVERY_ADMIN_KEY is a placeholder; set a real secret or leave it empty")
        return value

    @model_validator(mode="after")
    def _absolute_data_dir(self) -> Settings:
        self.data_dir = self.data_dir.expanduser().resolve()
        return self

    @property
    def records_url(self) -> str:
        """The records database URL, defaulting to SQLite inside the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'records.sqlite3'}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings for this process, read once."""
    return Settings()
