"""Links between assets and products, each recording how it was made. Pure: the known
SKUs and file names come in as arguments.

Four ways, in order of trust: a person (`manual`, through the API or an accepted suggested
link), a manifest row (`manifest`), a product record naming the file among its images
(`image_ref`), and a file-name rule (`filename_rule`). A name that fits more than one
candidate is reported as ambiguous and linked to none: a wrong link puts a picture on the
wrong product page, a missing one only leaves a gap to fill. Explicit references outrank
the file-name rule: the rule never links a file to a product whose export names its
images (nor a file an explicit reference already placed elsewhere); its candidate is a
suggested link instead, for a reviewer to accept or reject.
"""

from __future__ import annotations

import csv
import io
import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from discovery.domain import JSONObject
from indexer.assets.rights import InvalidRights, parse_rights

HOW_ORDER = ("manual", "manifest", "image_ref", "filename_rule")
EXPLICIT = frozenset({"manual", "manifest", "image_ref"})  # links a person or an export named
LINK_TAG = "link:"  # a suggested link is a tag `link:<SKU>` on the asset, reviewed like any tag
LINK_RULES = ("filename", "none")
# One problem in the job reject shape: {"line", "file", "field", "reason"}.
ProblemRow = dict[str, str | int | None]


@dataclass(frozen=True, slots=True)
class LinkMatch:
    asset_id: str
    sku: str
    how: str
    extra: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> JSONObject:
        return {"sku": self.sku, "how": self.how, **dict(self.extra)}


@dataclass(frozen=True, slots=True)
class Ambiguity:
    file: str
    how: str
    candidates: tuple[str, ...]
    reason: str

    def to_json(self) -> JSONObject:
        return {"file": self.file, "how": self.how, "candidates": list(self.candidates), "reason": self.reason}


def name_key(ref: str) -> str:
    """How a file is named in a link: the last path component of a path or URL, decoded,
    without query or fragment, case-folded. `/m/h/MH01-black_main.jpg?v=2` -> `mh01-black_main.jpg`."""
    path = urllib.parse.urlsplit(ref.strip()).path if "://" in ref else ref.split("?")[0].split("#")[0]
    return urllib.parse.unquote(re.split(r"[/\\]", path)[-1]).strip().casefold()


def ids_by_name(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """`{name_key(filename): [asset ids]}` from (asset id, filename) pairs."""
    out: dict[str, list[str]] = {}
    for asset_id, filename in pairs:
        ids = out.setdefault(name_key(filename), [])
        if asset_id not in ids:
            ids.append(asset_id)
    return out


def _one_asset(file: str, how: str, ids: Sequence[str]) -> str | Ambiguity | None:
    if not ids:
        return None
    if len(ids) > 1:
        return Ambiguity(file, how, tuple(ids), f"{len(ids)} assets have this file name")
    return ids[0]


def match_image_refs(
    refs_by_sku: Mapping[str, Iterable[str]], asset_ids_by_name: Mapping[str, Sequence[str]]
) -> tuple[list[LinkMatch], list[Ambiguity]]:
    """Link each product to the asset whose file name its image references name. Works in
    both directions: call it with the new assets when files arrive, or with the new
    products when records arrive."""
    links: list[LinkMatch] = []
    ambiguous: list[Ambiguity] = []
    for sku, refs in refs_by_sku.items():
        for ref in refs:
            found = _one_asset(name_key(ref), "image_ref", asset_ids_by_name.get(name_key(ref), ()))
            if isinstance(found, Ambiguity):
                ambiguous.append(found)
            elif found is not None:
                links.append(LinkMatch(found, sku, "image_ref"))
    return links, ambiguous


# --- manifest -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ManifestRow:
    line: int
    sku: str
    file: str
    rights: JSONObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    field: str | None
    reason: str
    file: str | None = None

    def to_json(self) -> ProblemRow:
        return {"line": self.line, "file": self.file, "field": self.field, "reason": self.reason}


def parse_manifest(text: str) -> tuple[list[ManifestRow], list[RowProblem]]:
    """Rows of a manifest CSV with columns `sku,file[,license,credit,expires_at,channels]`
    (header required; channels separated by `|` or `;`). Bad rows are reported by line."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = {(c or "").strip().casefold() for c in reader.fieldnames or ()}
    if not {"sku", "file"} <= columns:
        return [], [RowProblem(1, None, "manifest needs a header with `sku` and `file` columns")]
    rows: list[ManifestRow] = []
    problems: list[RowProblem] = []
    for raw in reader:
        line = reader.line_num
        row = {(k or "").strip().casefold(): (v or "") for k, v in raw.items() if isinstance(v, str)}
        sku, file = row.get("sku", "").strip(), row.get("file", "").strip()
        if not sku or not file:
            problems.append(RowProblem(line, "sku" if not sku else "file", "empty sku or file", file or None))
            continue
        try:
            rights = parse_rights({k: row.get(k) for k in ("license", "credit", "expires_at", "channels")})
        except InvalidRights as exc:
            problems.append(RowProblem(line, exc.field, str(exc), file))
            continue
        rows.append(ManifestRow(line, sku, file, rights))
    return rows, problems


def match_manifest(
    rows: Iterable[ManifestRow], asset_ids_by_name: Mapping[str, Sequence[str]]
) -> tuple[list[tuple[LinkMatch, ManifestRow]], list[Ambiguity], list[RowProblem]]:
    """(link, row) for each row whose file names exactly one asset; ambiguous rows; rows
    whose file names no asset."""
    links: list[tuple[LinkMatch, ManifestRow]] = []
    ambiguous: list[Ambiguity] = []
    missing: list[RowProblem] = []
    for row in rows:
        found = _one_asset(row.file, "manifest", asset_ids_by_name.get(name_key(row.file), ()))
        if isinstance(found, Ambiguity):
            ambiguous.append(found)
        elif found is None:
            missing.append(RowProblem(row.line, "file", "no asset with this file name", row.file))
        else:
            links.append((LinkMatch(found, row.sku, "manifest"), row))
    return links, ambiguous, missing


# --- file-name rules ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FilenameRule:
    """A pattern with a named group `sku` (and optionally `color`, `view`) and how the
    captured SKU must meet a known one: `exact`, or `suffix` (the known SKU ends with
    it at a separator: `MB01` meets `24-MB01`, never `XMB01`)."""

    name: str
    pattern: re.Pattern[str]
    sku_match: str = "suffix"
    colors: frozenset[str] | None = None  # a captured `color` outside these is dropped

    @classmethod
    def of(
        cls, name: str, pattern: str, sku_match: str = "suffix", colors: Iterable[str] | None = None
    ) -> FilenameRule:
        if sku_match not in ("suffix", "exact"):
            raise ValueError(f"filename rule {name!r}: sku_match must be `suffix` or `exact`")
        compiled = re.compile(pattern, re.IGNORECASE)
        if "sku" not in compiled.groupindex:
            raise ValueError(f"filename rule {name!r}: the pattern needs a (?P<sku>...) group")
        vocab = frozenset(c.casefold() for c in colors) if colors is not None else None
        return cls(name, compiled, sku_match, vocab)


COLOR_WORDS = frozenset({
    "black", "white", "grey", "gray", "red", "orange", "yellow", "green", "blue", "purple", "pink",
    "brown", "beige", "navy", "khaki", "tan", "gold", "silver", "olive", "teal", "maroon", "cream",
    "ivory", "lavender", "charcoal", "burgundy", "turquoise", "multi",
})  # fmt: skip
DEFAULT_RULES: tuple[FilenameRule, ...] = (
    # mb01-blue-0.jpg, mh01-black_main.jpg, MS02_front.png (no colour: `front` is a view), and
    # the sample catalog's and shipped mappings' letters-separator-digits SKUs in any case and
    # with `-`, `_` or no separator: ASH-000004-side.png, uix-0001-red_main.png, UIX0002.png.
    FilenameRule.of(
        "sku-colour-view",
        r"^(?P<sku>[a-z]{1,4}[-_]?\d{2,8}[a-z]?)(?:[-_](?P<color>[a-z]{3,}))?(?:[-_](?P<view>[a-z0-9]+))*\.[a-z0-9]{2,5}$",
        colors=COLOR_WORDS,
    ),
)


def rules_for(link_rule: str | None, pattern: str | None = None) -> tuple[FilenameRule, ...]:
    """The file-name rules of one import: `filename` (the default rules, or `pattern`, a
    regular expression with a `(?P<sku>...)` group matched against the lower-cased file
    name) or `none`. Raises ValueError naming what is wrong."""
    rule = (link_rule or "filename").strip().casefold()
    if rule not in LINK_RULES:
        raise ValueError(f"link_rule must be one of {', '.join(LINK_RULES)}, not {link_rule!r}")
    if rule == "none":
        if pattern:
            raise ValueError("link_pattern needs link_rule=filename")
        return ()
    if not pattern:
        return DEFAULT_RULES
    try:
        return (FilenameRule.of("pattern", pattern, colors=COLOR_WORDS),)
    except re.error as exc:
        raise ValueError(f"link_pattern is not a regular expression: {exc}") from exc


_SEPARATORS = re.compile(r"[\s_.\-]+")


def normalise_sku(text: str) -> str:
    """SKUs compare case-insensitively, with `_`, `-`, space and `.` all one separator."""
    return _SEPARATORS.sub("-", text.strip()).upper()


def compact_sku(text: str) -> str:
    """The SKU with its separators dropped: `UIX0002`, `uix_0002` and `UIX-0002` meet."""
    return normalise_sku(text).replace("-", "")


def sku_keys(sku: str) -> list[str]:
    """Every separator-bounded tail of a SKU, separators dropped (`24-MB01`: `24MB01`,
    `MB01`): the tokens a file name may carry for it."""
    parts = normalise_sku(sku).split("-")
    return list(dict.fromkeys("".join(parts[i:]) for i in range(len(parts))))


class SkuIndex:
    """Known SKUs, indexed by every separator-bounded tail (`24-MB01`: `MB01`, `24-MB01`),
    each compared without its separators (a file name may write `UIX0002` for `UIX-0002`)."""

    def __init__(self, skus: Iterable[str]) -> None:
        self.exact: dict[str, list[str]] = {}
        self.tails: dict[str, list[str]] = {}
        self._add(skus)

    def with_skus(self, skus: Iterable[str]) -> SkuIndex:
        """A new index holding these SKUs too; this one is left as it was (its lists are
        shared, never changed, so building the new one costs the new SKUs only)."""
        out = SkuIndex(())
        out.exact, out.tails = dict(self.exact), dict(self.tails)
        out._add(skus)
        return out

    def _add(self, skus: Iterable[str]) -> None:
        mine: set[tuple[bool, str]] = set()  # lists this call made or copied: appended in place
        for sku in dict.fromkeys(skus):
            for table, exact, key in (
                (self.exact, True, compact_sku(sku)),
                *((self.tails, False, k) for k in sku_keys(sku)),
            ):
                found = table.get(key)
                if (exact, key) not in mine:
                    found = table[key] = list(found or ())
                    mine.add((exact, key))
                    if sku in found:  # held before this call
                        continue
                assert found is not None
                found.append(sku)

    def find(self, token: str, how: str) -> list[str]:
        table = self.exact if how == "exact" else self.tails
        return table.get(compact_sku(token), [])


def match_filename(
    asset_id: str, filename: str, rules: Sequence[FilenameRule], skus: SkuIndex
) -> LinkMatch | Ambiguity | None:
    """The product a file name points at by the first rule that fits it and meets a
    known SKU; ambiguous when that rule's SKU meets several."""
    name = name_key(filename)
    for rule in rules:
        m = rule.pattern.match(name)
        if not m:
            continue
        found = skus.find(m["sku"], rule.sku_match)
        if len(found) > 1:
            reason = f"{m['sku'].upper()} matches {len(found)} SKUs"
            return Ambiguity(filename, "filename_rule", tuple(sorted(found)), reason)
        if found:
            extra = [("rule", rule.name)]
            color = (m.groupdict().get("color") or "").casefold()
            if color and (rule.colors is None or color in rule.colors):
                extra.append(("color", color))
            return LinkMatch(asset_id, found[0], "filename_rule", tuple(extra))
    return None


def link_tag(sku: str) -> str:
    """The review tag of a suggested link to `sku`."""
    return f"{LINK_TAG}{sku}"


def merge_links(existing: Iterable[JSONObject], new: Iterable[LinkMatch]) -> list[JSONObject]:
    """The asset's links with the new ones added: one link per SKU, the most trusted
    way kept (manual, manifest, image_ref, then filename_rule)."""
    by_sku: dict[str, JSONObject] = {}
    for link in [*existing, *(n.to_json() for n in new)]:
        sku = str(link.get("sku"))
        old = by_sku.get(sku)
        if old is None or _rank(link) < _rank(old):
            by_sku[sku] = link
    return list(by_sku.values())


def _rank(link: JSONObject) -> int:
    how = link.get("how")
    return HOW_ORDER.index(how) if how in HOW_ORDER else len(HOW_ORDER)
