"""The taxonomy: tag vocabulary (labels, synonyms, CLIP prompts, parents, locale labels)
and the category tree, read from YAML and validated with errors that name the key.

The file format is documented at the top of `models/taxonomy.yaml`, the default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from models.errors import TaxonomyError

DEFAULT_TAXONOMY = Path(__file__).with_name("taxonomy.yaml")

_TOP_KEYS = {"version", "locales", "defaults", "groups", "categories"}
_GROUP_KEYS = {"label", "labels", "exclusive", "zero_shot", "threshold", "prompts", "tags"}
_TAG_KEYS = {"label", "labels", "synonyms", "prompts", "parents", "threshold"}
_NODE_KEYS = {"labels", "synonyms", "tag", "children"}


@dataclass(frozen=True, slots=True)
class TagDef:
    """One tag of the vocabulary; `name` is `group:key`."""

    name: str
    group: str
    label: str
    labels: dict[str, str]
    synonyms: tuple[str, ...]
    prompts: tuple[str, ...]  # ready to embed (templates already filled)
    parents: tuple[str, ...]
    threshold: float

    def label_in(self, locale: str | None) -> str:
        return self.labels.get(locale or "", self.label)


@dataclass(frozen=True, slots=True)
class GroupDef:
    name: str
    label: str
    labels: dict[str, str]
    exclusive: bool
    zero_shot: bool
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CategoryDef:
    """A node of the category tree; `path` is `Men/Tops/Hoodies`."""

    path: str
    name: str
    labels: dict[str, str]
    synonyms: tuple[str, ...]
    tag: str | None
    is_leaf: bool

    def describe(self) -> str:
        """Words a text model can match a product against: the path and its synonyms."""
        words = " > ".join(self.path.split("/"))
        return f"{words} ({', '.join(self.synonyms)})" if self.synonyms else words


@dataclass(frozen=True, slots=True)
class Taxonomy:
    version: int
    locales: tuple[str, ...]
    groups: dict[str, GroupDef]
    tags: dict[str, TagDef]
    categories: dict[str, CategoryDef] = field(default_factory=dict)

    def tag(self, name: str) -> TagDef:
        try:
            return self.tags[name]
        except KeyError:
            raise KeyError(f"unknown tag {name!r}") from None

    def in_group(self, group: str) -> list[TagDef]:
        return [self.tags[name] for name in self.groups[group].tags]

    def zero_shot_tags(self) -> list[TagDef]:
        """Tags CLIP may suggest: those of zero-shot groups that have prompts."""
        return [t for t in self.tags.values() if self.groups[t.group].zero_shot and t.prompts]

    def ancestors(self, name: str) -> list[str]:
        """Parents, grandparents ... of a tag, nearest first, without repeats."""
        seen: list[str] = []
        frontier = list(self.tag(name).parents)
        while frontier:
            parent = frontier.pop(0)
            if parent not in seen:
                seen.append(parent)
                frontier.extend(self.tags[parent].parents)
        return seen

    def find(self, group: str, word: str) -> TagDef | None:
        """The tag of `group` whose key, label, synonym or locale label is `word`."""
        wanted = word.strip().lower()
        for tag in self.in_group(group):
            names = {tag.name.split(":", 1)[1], tag.label, *tag.synonyms, *tag.labels.values()}
            if wanted in {n.lower() for n in names}:
                return tag
        return None

    def synonym_groups(self) -> list[tuple[str, ...]]:
        """Words that mean the same for search, one group per tag (its label and synonyms)
        and per category node (its name and synonyms) that has synonyms. Search treats a
        group as two-way: a query for any member also finds the others."""
        groups = [(t.label, *t.synonyms) for t in self.tags.values() if t.synonyms]
        nodes = {(c.name, *c.synonyms) for c in self.categories.values() if c.synonyms}  # shared subtrees repeat
        return groups + sorted(nodes)

    def to_json(self) -> dict[str, Any]:
        """What GET /api/taxonomy returns."""
        return {
            "version": self.version,
            "locales": list(self.locales),
            "groups": [
                {"name": g.name, "label": g.label, "labels": g.labels, "tags": list(g.tags)}
                for g in self.groups.values()
            ],
            "tags": [
                {
                    "name": t.name,
                    "group": t.group,
                    "label": t.label,
                    "labels": t.labels,
                    "synonyms": list(t.synonyms),
                    "parents": list(t.parents),
                }
                for t in self.tags.values()
            ],
            "categories": [
                {"path": c.path, "labels": c.labels, "synonyms": list(c.synonyms), "tag": c.tag, "leaf": c.is_leaf}
                for c in self.categories.values()
            ],
        }


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy file (the packaged default when `path` is None)."""
    source = Path(path) if path is not None else DEFAULT_TAXONOMY
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"not valid YAML: {exc}", key="(file)", source=str(source)) from exc
    return parse_taxonomy(data, source=str(source))


def parse_taxonomy(data: Any, *, source: str | None = None) -> Taxonomy:
    """Validate a parsed taxonomy document; raises `TaxonomyError` naming the bad key."""
    doc = _mapping(data, "(root)", source)
    _known_keys(doc, _TOP_KEYS, "", source)
    locales = tuple(_strings(doc.get("locales", []), "locales", source))
    default = _threshold(
        _mapping(doc.get("defaults", {}), "defaults", source).get("threshold", 0.3), "defaults.threshold", source
    )
    groups: dict[str, GroupDef] = {}
    tags: dict[str, TagDef] = {}
    for gname, graw in _mapping(doc.get("groups"), "groups", source).items():
        group, group_tags = _group(str(gname), graw, locales, default, source)
        groups[group.name] = group
        tags.update(group_tags)
    for tag in tags.values():
        for i, parent in enumerate(tag.parents):
            if parent not in tags:
                key = f"groups.{tag.group}.tags.{tag.name.split(':', 1)[1]}.parents[{i}]"
                raise TaxonomyError(f"unknown parent tag {parent!r}", key=key, source=source)
    categories: dict[str, CategoryDef] = {}
    _categories(
        _mapping(doc.get("categories", {}), "categories", source), "", "categories", locales, tags, categories, source
    )
    return Taxonomy(int(doc.get("version", 1)), locales, groups, tags, categories)


def _group(
    name: str, raw: Any, locales: tuple[str, ...], default: float, source: str | None
) -> tuple[GroupDef, dict[str, TagDef]]:
    key = f"groups.{name}"
    group = _mapping(raw, key, source)
    _known_keys(group, _GROUP_KEYS, key, source)
    threshold = _threshold(group.get("threshold", default), f"{key}.threshold", source)
    templates = _strings(group.get("prompts", []), f"{key}.prompts", source)
    for i, template in enumerate(templates):
        if "{label}" not in template:
            raise TaxonomyError("a prompt template needs {label}", key=f"{key}.prompts[{i}]", source=source)
    tags: dict[str, TagDef] = {}
    for tkey, traw in _mapping(group.get("tags"), f"{key}.tags", source).items():
        tag = _tag(name, str(tkey), traw, templates, threshold, locales, source)
        tags[tag.name] = tag
    label = str(group.get("label", name))
    labels = _labels(group.get("labels", {}), f"{key}.labels", locales, source)
    return GroupDef(
        name, label, labels, bool(group.get("exclusive", False)), bool(group.get("zero_shot", True)), tuple(tags)
    ), tags


def _tag(
    group: str,
    key: str,
    raw: Any,
    templates: list[str],
    threshold: float,
    locales: tuple[str, ...],
    source: str | None,
) -> TagDef:
    where = f"groups.{group}.tags.{key}"
    tag = _mapping(raw if raw is not None else {}, where, source)
    _known_keys(tag, _TAG_KEYS, where, source)
    label = str(tag.get("label", key))
    synonyms = tuple(_strings(tag.get("synonyms", []), f"{where}.synonyms", source))
    prompts = _strings(tag.get("prompts", []), f"{where}.prompts", source)
    if not prompts:
        prompts = [t.replace("{label}", word) for word in (label, *synonyms) for t in templates]
    return TagDef(
        name=f"{group}:{key}",
        group=group,
        label=label,
        labels=_labels(tag.get("labels", {}), f"{where}.labels", locales, source),
        synonyms=synonyms,
        prompts=tuple(prompts),
        parents=tuple(_strings(tag.get("parents", []), f"{where}.parents", source)),
        threshold=_threshold(tag.get("threshold", threshold), f"{where}.threshold", source),
    )


def _categories(
    nodes: dict[str, Any],
    prefix: str,
    key: str,
    locales: tuple[str, ...],
    tags: dict[str, TagDef],
    out: dict[str, CategoryDef],
    source: str | None,
) -> None:
    for name, raw in nodes.items():
        where = f"{key}.{name}"
        if "/" in str(name):
            raise TaxonomyError("a category name cannot contain '/'", key=where, source=source)
        node = _mapping(raw if raw is not None else {}, where, source)
        _known_keys(node, _NODE_KEYS, where, source)
        tag = node.get("tag")
        if tag is not None and tag not in tags:
            raise TaxonomyError(f"unknown tag {tag!r}", key=f"{where}.tag", source=source)
        children = _mapping(node.get("children", {}), f"{where}.children", source)
        path = f"{prefix}{name}"
        out[path] = CategoryDef(
            path,
            str(name),
            _labels(node.get("labels", {}), f"{where}.labels", locales, source),
            tuple(_strings(node.get("synonyms", []), f"{where}.synonyms", source)),
            tag,
            not children,
        )
        _categories(children, f"{path}/", f"{where}.children", locales, tags, out, source)


def _mapping(value: Any, key: str, source: str | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TaxonomyError(f"expected a mapping, got {type(value).__name__}", key=key, source=source)
    return value


def _strings(value: Any, key: str, source: str | None) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise TaxonomyError("expected a list of non-empty strings", key=key, source=source)
    return list(value)


def _labels(value: Any, key: str, locales: tuple[str, ...], source: str | None) -> dict[str, str]:
    labels = _mapping(value, key, source)
    for locale, text in labels.items():
        if locale not in locales:
            raise TaxonomyError(
                f"locale {locale!r} is not in `locales` {list(locales)}", key=f"{key}.{locale}", source=source
            )
        if not isinstance(text, str) or not text.strip():
            raise TaxonomyError("expected a non-empty string", key=f"{key}.{locale}", source=source)
    return {str(k): str(v) for k, v in labels.items()}


def _threshold(value: Any, key: str, source: str | None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise TaxonomyError(f"expected a number between 0 and 1, got {value!r}", key=key, source=source)
    return float(value)


def _known_keys(mapping: dict[str, Any], known: set[str], key: str, source: str | None) -> None:
    for name in mapping:
        if name not in known:
            where = f"{key}.{name}" if key else str(name)
            raise TaxonomyError(f"unknown key (expected one of {', '.join(sorted(known))})", key=where, source=source)
