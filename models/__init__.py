"""Image and text models: CLIP through open_clip, sentence-transformers, the tagger, the taxonomy.

Imports nothing else of this project. Heavy libraries (torch, open_clip,
sentence-transformers) load when a model is first used, not on import, so a CLI that
never embeds anything starts fast. Build models through `models.factory`.
"""

from models.errors import ModelError, ModelUnavailable, TaxonomyError

__all__ = ["ModelError", "ModelUnavailable", "TaxonomyError"]
