"""Query-time synonyms, the same on both engines. Pure, but for reading the file.

A query's words are matched against the synonym phrases (longest first, left to right);
each phrase found becomes an OR group of itself and its alternatives, which each engine
renders with its own match rules (`SearchQuery.synonyms`). Nothing is expanded at
indexing, so editing synonyms needs no reindex.

Sources: the taxonomy's tag and category synonyms (a label and its synonyms are one
two-way group), and the file named by `DISCOVERY_SEARCH_SYNONYMS_PATH`, whose format is
that of Solr's and OpenSearch's synonym files::

    # a comment; blank lines are skipped
    tee, t-shirt, tshirt            two-way: a query for any of them finds every one
    sneakers => trainers, running shoes
                                    one-way: `sneakers` also finds trainers and running
                                    shoes; a query for `trainers` stays as it is

Phrases are compared by folded words (case, accents, punctuation) and a light plural key
(`tees` = `tee`, `hoodies` = `hoodie` = `hoody`), so one entry serves both numbers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from discovery.errors import DiscoveryError

Phrase = tuple[str, ...]
MAX_ALTERNATIVES = 8  # per phrase: each one is a clause of every search that uses it

_SPLIT = re.compile(r"[^\w]+|_")


class SynonymsError(DiscoveryError):
    """A synonyms file line that cannot be read; the detail names the file and line."""


def fold_words(text: str) -> Phrase:
    """Lower-case, accent-free words of `text`, split as the engines split text."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return tuple(w for w in _SPLIT.split(plain) if w)


def plural_key(word: str) -> str:
    """A key shared by a word's singular and plural (`tees`/`tee`, `hoodies`/`hoody`,
    `dresses`/`dress`); only for comparing synonym phrases, never shown or indexed."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    if len(word) > 2 and word.endswith("e"):
        word = word[:-1]
    if len(word) > 2 and word.endswith("y"):
        word = word[:-1] + "i"
    return word


def _key(words: Phrase) -> Phrase:
    return tuple(plural_key(w) for w in words)


@dataclass(frozen=True, slots=True)
class Group:
    """Query words `words[start:end]` and what else they may match (each alternative a
    phrase of folded words, all of which must match)."""

    start: int
    end: int
    alternatives: tuple[Phrase, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Synonyms:
    """Phrase key -> alternatives (folded words), and the longest phrase in words."""

    rules: Mapping[Phrase, tuple[Phrase, ...]] = field(default_factory=dict)
    longest: int = 0

    def __bool__(self) -> bool:
        return bool(self.rules)

    def groups(self, words: Sequence[str]) -> list[Group]:
        """The phrases of `words` that have alternatives, longest match first, left to
        right, never overlapping; `words` are the query's words (folded here)."""
        if not self.rules or not words:
            return []
        folded = [plural_key("".join(fold_words(w))) for w in words]
        found: list[Group] = []
        i = 0
        while i < len(folded):
            for n in range(min(self.longest, len(folded) - i), 0, -1):
                alternatives = self.rules.get(tuple(folded[i : i + n]))
                if alternatives:
                    found.append(Group(i, i + n, alternatives))
                    i += n
                    break
            else:
                i += 1
        return found


def build(two_way: Iterable[Sequence[str]] = (), one_way: Iterable[tuple[Sequence[str], Sequence[str]]] = ()
          ) -> Synonyms:
    """Synonyms from groups of equivalent phrases and from (phrases, alternatives) pairs."""
    table: dict[Phrase, dict[Phrase, None]] = {}

    def add(source: Phrase, target: Phrase) -> None:
        if source and target and _key(source) != _key(target):
            table.setdefault(_key(source), {})[target] = None

    for group in two_way:
        phrases = [p for p in (fold_words(t) for t in group) if p]
        for a in phrases:
            for b in phrases:
                add(a, b)
    for sources, targets in one_way:
        for s in sources:
            for t in targets:
                add(fold_words(s), fold_words(t))
    rules = {k: tuple(v)[:MAX_ALTERNATIVES] for k, v in table.items() if v}
    return Synonyms(rules, max((len(k) for k in rules), default=0))


def parse(text: str, *, source: str = "synonyms") -> tuple[list[list[str]], list[tuple[list[str], list[str]]]]:
    """The two-way groups and one-way rules of a synonyms file (see the module docstring);
    `SynonymsError` names the line of a malformed one."""
    two_way: list[list[str]] = []
    one_way: list[tuple[list[str], list[str]]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.count("=>") > 1:
            raise SynonymsError(f"{source} line {number}: more than one '=>'", field="synonyms_path")
        left, arrow, right = line.partition("=>")
        sources = [t.strip() for t in left.split(",") if t.strip()]
        targets = [t.strip() for t in right.split(",") if t.strip()]
        if arrow:
            if not sources or not targets:
                raise SynonymsError(f"{source} line {number}: '=>' needs words on both sides", field="synonyms_path")
            one_way.append((sources, targets))
        elif len(sources) < 2:
            raise SynonymsError(
                f"{source} line {number}: a two-way line lists at least two comma-separated phrases",
                field="synonyms_path",
            )
        else:
            two_way.append(sources)
    return two_way, one_way


def load(path: str | Path | None, taxonomy_groups: Iterable[Sequence[str]] = ()) -> Synonyms:
    """The taxonomy's groups plus the file at `path` (none when empty)."""
    two_way = [list(g) for g in taxonomy_groups]
    one_way: list[tuple[list[str], list[str]]] = []
    if path:
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise SynonymsError(f"cannot read the synonyms file {file}: {exc.strerror}", field="synonyms_path") from exc
        more, one_way = parse(text, source=str(file))
        two_way += more
    return build(two_way, one_way)
