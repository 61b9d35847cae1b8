"""The words the sample catalog is made of: brands, name words, product types, materials.

Fixed tuples, never shuffled in place: the generator draws from them with a seeded
`random.Random`, so their order is part of what makes a seed reproducible. Append
rather than reorder if you extend them.
"""

from __future__ import annotations

from dataclasses import dataclass

# Twelve brands, each with a distinct three-letter SKU prefix.
BRANDS: tuple[tuple[str, str], ...] = (
    ("Northwind", "NWD"),
    ("Bluepeak", "BLP"),
    ("Kestrel", "KES"),
    ("Solstice", "SOL"),
    ("Fjordline", "FJL"),
    ("Ironbark", "IRB"),
    ("Tidewell", "TDW"),
    ("Lumen", "LUM"),
    ("Ashgrove", "ASH"),
    ("Corvid", "CRV"),
    ("Halden", "HAL"),
    ("Wildmere", "WLD"),
)

# Name = adjective + noun + product type ("Aurora Trail Hoodie"). The words are plain
# English, never a brand, colour or type word, so a word picked from a name finds
# products by their name alone.
ADJECTIVES: tuple[str, ...] = (
    "Aurora", "Summit", "Coastal", "Urban", "Alpine", "Velvet", "Midnight", "Solar",
    "Granite", "Harbor", "Meadow", "Nordic", "Ember", "Glacier", "Canyon", "Willow",
    "Drift", "Pioneer", "Lunar", "Cedar", "Tundra", "Prairie", "Cobalt", "Sierra",
)  # fmt: skip
NOUNS: tuple[str, ...] = (
    "Trail", "Ridge", "Wave", "Peak", "Storm", "Breeze", "Stone", "River",
    "Forest", "Dune", "Field", "Echo", "Spark", "Pulse", "Cloud", "Comet",
    "Falcon", "Harvest", "Lagoon", "Orbit", "Quartz", "Raven", "Timber", "Voyage",
)  # fmt: skip

APPAREL_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
WAIST_SIZES = ("28", "30", "32", "34", "36", "38")
SHOE_SIZES = ("38", "39", "40", "41", "42", "43", "44", "45", "46")
ONE_SIZE = ("One Size",)


@dataclass(frozen=True, slots=True)
class ProductType:
    """One kind of product: how it is named, filed, sized, priced and drawn."""

    word: str  # the type word closing the name: "Hoodie"
    path: str  # category path below the department: "Tops/Hoodies"
    gendered: bool  # filed under Men/ and/or Women/ rather than a neutral root
    shape: str  # silhouette drawn for it, see indexer.sample.shapes
    sizes: tuple[str, ...]
    materials: tuple[str, ...]
    price: tuple[float, float]
    word_fr: str  # French type word for name-fr_FR


PRODUCT_TYPES: tuple[ProductType, ...] = (
    ProductType("Hoodie", "Tops/Hoodies", True, "torso", APPAREL_SIZES,
                ("cotton", "fleece", "organic cotton"), (45, 95), "Sweat à capuche"),
    ProductType("T-Shirt", "Tops/T-Shirts", True, "torso", APPAREL_SIZES,
                ("cotton", "organic cotton", "linen"), (15, 40), "T-shirt"),
    ProductType("Sweater", "Tops/Knitwear", True, "torso", APPAREL_SIZES,
                ("wool", "merino wool", "cashmere"), (50, 160), "Pull"),
    ProductType("Jacket", "Outerwear/Jackets", True, "torso", APPAREL_SIZES,
                ("nylon", "polyester", "leather", "down"), (80, 260), "Veste"),
    ProductType("Shirt", "Tops/Shirts", True, "torso", APPAREL_SIZES,
                ("cotton", "linen", "flannel"), (30, 80), "Chemise"),
    ProductType("Jeans", "Bottoms/Jeans", True, "legs", WAIST_SIZES,
                ("denim", "stretch denim"), (50, 130), "Jean"),
    ProductType("Trousers", "Bottoms/Trousers", True, "legs", WAIST_SIZES,
                ("cotton", "wool", "linen"), (40, 120), "Pantalon"),
    ProductType("Shorts", "Bottoms/Shorts", True, "shorts", WAIST_SIZES,
                ("cotton", "nylon"), (25, 60), "Short"),
    ProductType("Sneakers", "Shoes/Sneakers", True, "shoe", SHOE_SIZES,
                ("canvas", "leather", "mesh"), (60, 160), "Baskets"),
    ProductType("Boots", "Shoes/Boots", True, "boot", SHOE_SIZES,
                ("leather", "suede"), (90, 240), "Bottes"),
    ProductType("Backpack", "Bags/Backpacks", False, "bag", ONE_SIZE,
                ("nylon", "canvas", "polyester"), (40, 150), "Sac à dos"),
    ProductType("Tote", "Bags/Totes", False, "tote", ONE_SIZE,
                ("canvas", "leather", "cotton"), (20, 120), "Cabas"),
    ProductType("Cap", "Hats/Caps", False, "cap", ONE_SIZE,
                ("cotton", "polyester"), (15, 40), "Casquette"),
    ProductType("Beanie", "Hats/Beanies", False, "beanie", ONE_SIZE,
                ("wool", "acrylic"), (15, 40), "Bonnet"),
    ProductType("Scarf", "Scarves", False, "scarf", ONE_SIZE,
                ("wool", "cashmere", "silk"), (20, 120), "Écharpe"),
    ProductType("Bottle", "Outdoor/Bottles", False, "bottle", ("500 ml", "750 ml", "1 l"),
                ("steel", "aluminium"), (15, 45), "Gourde"),
    ProductType("Mug", "Kitchen/Mugs", False, "mug", ("300 ml", "400 ml"),
                ("ceramic", "porcelain", "enamel"), (8, 25), "Tasse"),
)  # fmt: skip

# Roots for non-gendered types, by the first segment of their path.
NEUTRAL_ROOTS = {"Bags": "Accessories", "Hats": "Accessories", "Scarves": "Accessories",
                 "Outdoor": "Home", "Kitchen": "Home"}  # fmt: skip

STATUSES: tuple[tuple[str, float], ...] = (("approved", 0.8), ("in_review", 0.1), ("draft", 0.1))
CHANNEL_SETS: tuple[tuple[tuple[str, ...], float], ...] = (
    (("web", "marketplace"), 0.5),
    (("web",), 0.4),
    (("marketplace",), 0.1),
)

# Sentence openers for descriptions; {m} is the material, {t} the type word lower-cased.
DESCRIPTION_OPENERS: tuple[str, ...] = (
    "<p>Soft <b>{m}</b> {t} made to last.</p>",
    "<p>A light <b>{m}</b> {t} for every day.</p>",
    "<p>Our classic {t} in <b>{m}</b>, cut for comfort.</p>",
    "<p>Durable <b>{m}</b> {t} that keeps its shape.</p>",
    "<p>The {t} you reach for first: <b>{m}</b>, simple, warm.</p>",
)
DESCRIPTION_CARE: tuple[str, ...] = (
    "<li>Machine washable at 30&nbsp;°C</li>",
    "<li>Responsibly sourced</li>",
    "<li>Two-year warranty</li>",
    "<li>Recycled packaging</li>",
)
