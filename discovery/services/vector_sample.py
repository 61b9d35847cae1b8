"""A sample of each model's stored vectors, kept by the context: what image results
measure an unrelated picture's cosine on (`image_similarity.unrelated_cosine`)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from discovery.store.records import Records

SAMPLE_SIZE = 512  # enough for a stable median (its error is about 1/sqrt(n) of the spread)
SAMPLE_SECONDS = 300.0  # how long a sample serves before it is read again


@dataclass
class VectorSamples:
    """Samples by (field, model), read from the records at most every `seconds`; a sample
    of fewer than two vectors is not kept (a catalog still being imported)."""

    size: int = SAMPLE_SIZE
    seconds: float = SAMPLE_SECONDS
    _kept: dict[tuple[str, str], tuple[float, np.ndarray]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, records: Records, field_name: str, model: str) -> np.ndarray:
        key = (field_name, model)
        now = time.monotonic()
        with self._lock:
            kept = self._kept.get(key)
        if kept is not None and now - kept[0] < self.seconds:
            return kept[1]
        sample = records.sample_vectors(field_name, model, limit=self.size)
        if sample.shape[0] >= 2:
            with self._lock:
                self._kept[key] = (now, sample)
        return sample
