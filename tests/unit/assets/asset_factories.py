"""Seeded factories for asset tests: product-like drawings with known colour and
background, and hostile files (bombs, truncations, polyglots) built in memory, so no
binary fixture lives in git."""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib

import numpy as np
from PIL import Image, ImageDraw

# Several shades per name, so the namer is tested on a family, not on one RGB triple.
SHADES: dict[str, list[tuple[int, int, int]]] = {
    "black": [(20, 20, 20), (35, 30, 30), (10, 12, 18)],
    "white": [(250, 250, 250), (244, 244, 240)],
    "grey": [(128, 128, 128), (100, 100, 104), (165, 165, 160)],
    "red": [(210, 30, 35), (190, 20, 20), (230, 40, 50), (200, 25, 30)],  # darker reds are maroon
    "orange": [(245, 130, 20), (250, 150, 40), (235, 110, 10)],
    "yellow": [(245, 215, 30), (250, 230, 60), (240, 200, 0)],
    "green": [(40, 160, 60), (30, 120, 40), (90, 180, 70), (20, 100, 60)],
    "blue": [(30, 80, 200), (20, 50, 150), (60, 120, 220), (40, 90, 180)],  # darker blues are navy
    "purple": [(120, 50, 170), (100, 30, 140), (140, 70, 190)],
    "pink": [(240, 120, 180), (250, 170, 200), (230, 90, 160)],
    "brown": [(120, 70, 30), (100, 60, 30), (140, 85, 40)],
    "beige": [(225, 205, 165), (235, 220, 185), (215, 195, 150)],
}
NAMES = tuple(SHADES)
# Names a busy scene never uses around an object (the object must stay its colour's
# largest region, as in the sample catalog); white is never used (a scene is not white).
LOOKALIKE = {
    "black": {"grey", "brown"}, "white": {"grey", "beige"}, "grey": {"black", "white"},
    "red": {"orange", "pink", "brown"}, "orange": {"red", "yellow", "brown", "beige"},
    "yellow": {"orange", "beige", "green"}, "green": {"yellow"}, "blue": {"purple"},
    "purple": {"blue", "pink"}, "pink": {"red", "purple"},
    "brown": {"red", "orange", "beige", "black"}, "beige": {"white", "yellow", "brown", "orange"},
}  # fmt: skip
SHAPES = ("ellipse", "rounded_rectangle", "shoe")


def _shoe(cx: float, cy: float, w: float, h: float) -> list[tuple[float, float]]:
    pts = [(0.0, 0.55), (0.05, 0.2), (0.3, 0.15), (0.45, 0.35), (0.9, 0.55), (1.0, 0.75),
           (1.0, 0.9), (0.0, 0.9)]  # fmt: skip
    return [(cx - w / 2 + x * w, cy - h / 2 + y * h) for x, y in pts]


def _scene(rng: random.Random, size: int, avoid: str) -> Image.Image:
    colours = [n for n in NAMES if n not in LOOKALIKE[avoid] | {avoid, "white"}]
    image = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(image)
    cells = rng.randint(4, 6)
    for i in range(cells * cells):
        x, y = i % cells, i // cells
        box = (x * size // cells, y * size // cells, (x + 1) * size // cells, (y + 1) * size // cells)
        draw.rectangle(box, fill=rng.choice(SHADES[colours[i % len(colours)]]))
    for _ in range(rng.randint(15, 30)):
        sx, sy = rng.uniform(0, size), rng.uniform(0, size)
        w, h = rng.uniform(0.05, 0.2) * size, rng.uniform(0.05, 0.2) * size
        draw.ellipse((sx, sy, sx + w, sy + h), fill=rng.choice(SHADES[rng.choice(colours)]))
    return image


def draw_product(
    seed: int, *, colour: str | None = None, scene: bool | None = None, size: int = 256, shape: str | None = None
) -> tuple[Image.Image, str, str]:
    """(image, colour name, "white" | "other"): one object of a named colour, on white or
    on a busy multi-coloured scene, lit a little unevenly and lightly noisy."""
    rng = random.Random(seed)
    colour = colour or rng.choice(NAMES)
    scene = rng.random() < 0.5 if scene is None else scene
    shape = shape or rng.choice(SHAPES)
    canvas = _scene(rng, size, colour) if scene else Image.new("RGB", (size, size), (255, 255, 255))
    mask = Image.new("L", (size, size), 0)
    md = ImageDraw.Draw(mask)
    cx, cy = size * rng.uniform(0.45, 0.55), size * rng.uniform(0.45, 0.55)
    w, h = size * rng.uniform(0.5, 0.75), size * rng.uniform(0.45, 0.7)
    box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    if shape == "ellipse":
        md.ellipse(box, fill=255)
    elif shape == "rounded_rectangle":
        md.rounded_rectangle(box, radius=int(min(w, h) * 0.2), fill=255)
    else:
        md.polygon(_shoe(cx, cy, w, h), fill=255)
    base = np.array(rng.choice(SHADES[colour]), dtype=np.float32)
    ramp = np.linspace(rng.uniform(1.0, 1.05), rng.uniform(0.9, 0.96), size, dtype=np.float32)
    light = ramp[:, None] if rng.random() < 0.5 else ramp[None, :]
    noise = np.random.default_rng(seed).normal(0, 3, (size, size, 3)).astype(np.float32)
    lit = np.clip(base * light[..., None] + noise, 0, 255).astype(np.uint8)
    canvas.paste(Image.fromarray(lit, "RGB"), (0, 0), mask)
    outline = tuple(int(c * 0.6) for c in base) if base.sum() > 180 else (90, 90, 90)
    ImageDraw.Draw(canvas).line(_shoe(cx, cy, w, h)[:4], fill=outline, width=max(2, size // 100))
    if colour == "white":  # an outline so a white product on white is still an object
        canvas.paste((150, 150, 150), (0, 0), _ring(mask))
    return canvas, colour, "other" if scene else "white"


def _ring(mask: Image.Image) -> Image.Image:
    from PIL import ImageFilter

    grown = mask.filter(ImageFilter.MaxFilter(5))
    return Image.fromarray(((np.asarray(grown) > 127) & (np.asarray(mask) <= 127)).astype(np.uint8) * 255, "L")


def encode(image: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def jpeg(size: tuple[int, int] = (320, 240), colour: tuple[int, int, int] = (200, 30, 30), **params: object) -> bytes:
    return encode(Image.new("RGB", size, colour), "JPEG", quality=90, **params)


def png(size: tuple[int, int] = (64, 48), colour: tuple[int, ...] = (30, 80, 200)) -> bytes:
    mode = "RGBA" if len(colour) == 4 else "RGB"
    return encode(Image.new(mode, size, colour), "PNG")


# --- hostile files ------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def decompression_bomb_png(side: int = 10_000) -> bytes:
    """A valid 1-bit PNG of side x side pixels (100 MP by default) in about 12 KB."""
    comp = zlib.compressobj(9)
    row = b"\x00" * (1 + (side + 7) // 8)
    body = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def truncated_jpeg() -> bytes:
    data = encode(draw_product(7, size=200)[0], "JPEG", quality=90)
    return data[: len(data) // 2]


def html_as_jpg() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"


def gif_js_polyglot() -> bytes:
    """A GIF whose bytes are also a JavaScript program: `GIF89a/*...*/=alert(1);`."""
    gif = bytearray(encode(Image.new("P", (8, 8), 1), "GIF"))
    gif[6:8] = b"/*"  # the logical screen width opens a JS comment
    assert b"*/" not in gif
    return bytes(gif) + b"*/=alert(document.domain);"


def zip_bomb(entries: int = 3, size: int = 64 << 20) -> bytes:
    """A zip of a few entries that each inflate to `size` bytes of zeros (about 1000:1)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        chunk = b"\x00" * (1 << 20)
        for i in range(entries):
            with archive.open(f"bomb{i}.png", "w", force_zip64=True) as out:
                for _ in range(size >> 20):
                    out.write(chunk)
    return buffer.getvalue()


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --- metadata carriers ----------------------------------------------------------------


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ \x00\x00\x00\x00" + _s15(x) + _s15(y) + _s15(z)


def swapped_rgb_profile() -> bytes:
    """A minimal ICC v2 RGB profile (not sRGB) whose red and green colorants are swapped:
    a pixel stored as pure red means green under this profile."""
    desc_text = b"Swapped primaries test\x00"
    desc = b"desc\x00\x00\x00\x00" + struct.pack(">I", len(desc_text)) + desc_text + b"\x00" * 12 + b"\x00" * 67
    curve = b"curv\x00\x00\x00\x00" + struct.pack(">I", 1) + struct.pack(">H", 0x0233) + b"\x00\x00"
    tags = [
        (b"desc", desc),
        (b"wtpt", _xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", _xyz(0.3851, 0.7169, 0.0971)),  # sRGB's green
        (b"gXYZ", _xyz(0.4361, 0.2225, 0.0139)),  # sRGB's red
        (b"bXYZ", _xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve),
        (b"cprt", b"text\x00\x00\x00\x00public domain\x00\x00\x00"),
    ]  # fmt: skip
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for sig, data in tags:
        data += b"\x00" * (-len(data) % 4)
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (
        struct.pack(">I", size) + b"\x00" * 4 + bytes([2, 0x10, 0, 0]) + b"mntrRGB XYZ " + b"\x00" * 12
        + b"acsp" + b"\x00" * 24 + b"\x00" * 4 + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\x00" * 48
    )  # fmt: skip
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def _iptc_record(dataset: int, value: str) -> bytes:
    raw = value.encode("utf-8")
    return bytes([0x1C, 2, dataset]) + struct.pack(">H", len(raw)) + raw


def with_iptc(jpeg_bytes: bytes, fields: dict[int, list[str]]) -> bytes:
    """The JPEG with an APP13 Photoshop IPTC block inserted after SOI."""
    iptc = b"".join(_iptc_record(ds, v) for ds, values in fields.items() for v in values)
    iptc += b"\x00" * (len(iptc) % 2)
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iptc)) + iptc
    payload = b"Photoshop 3.0\x00" + resource
    segment = b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg_bytes[:2] + segment + jpeg_bytes[2:]


def xmp_packet(title: str, description: str, keywords: list[str], creator: str, rights: str) -> bytes:
    items = "".join(f"<rdf:li>{k}</rdf:li>" for k in keywords)
    return (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:Credit="Studio North">'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>'
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{description}</rdf:li></rdf:Alt></dc:description>'
        f"<dc:subject><rdf:Bag>{items}</rdf:Bag></dc:subject>"
        f"<dc:creator><rdf:Seq><rdf:li>{creator}</rdf:li></rdf:Seq></dc:creator>"
        f'<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">{rights}</rdf:li></rdf:Alt></dc:rights>'
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def text_pdf(pages: list[str]) -> bytes:
    """A small valid PDF with one line of Helvetica text per page."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = []
    font_id = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for text in pages:
        stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content_id = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (content_id, font_id)
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))  # fmt: skip
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R /Info << /Title (Spring lookbook) >> >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()
