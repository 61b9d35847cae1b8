"""The colour vocabulary, shared by product attributes and image palettes. Pure.

Image palettes name pixels with `PALETTE` (`indexer.assets.colors`); product colours from
any catalog are folded onto the same names where they are spellings of one colour
(`gray` -> `grey`), so a colour facet lists one value for a product's `Gray` and an
image's `grey`, shown by its label (`Grey`). It sits on the floor so that the index
(`discovery.store`) and the indexer both import it.

The palette holds the colours catalogs name products with (a merchandiser's `Navy` or
`Olive` is its own value, not a shade of blue or green), so a photo's colour and the
product's colour attribute can agree.
"""

from __future__ import annotations

PALETTE: tuple[str, ...] = (
    "black",
    "white",
    "grey",
    "red",
    "orange",
    "yellow",
    "green",
    "blue",
    "purple",
    "pink",
    "brown",
    "beige",
    "navy",
    "olive",
    "maroon",
)

# Other spellings of a colour word, word by word (`dark gray` is `dark grey`). Only
# spellings: a shade (`charcoal`, `teal`) stays its own value.
SPELLINGS: dict[str, str] = {
    "gray": "grey",
    "grays": "grey",
    "greys": "grey",
    "offwhite": "off-white",
}


def color_key(value: str) -> str:
    """The folded colour: lower case, single spaces, each word in its vocabulary spelling."""
    return " ".join(SPELLINGS.get(word, word) for word in value.casefold().split())


def color_label(value: str) -> str:
    """How a colour is shown: its key with each word capitalised (`Grey`, `Dark Grey`)."""
    return " ".join(word[:1].upper() + word[1:] for word in color_key(value).split())
