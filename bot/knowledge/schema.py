"""The schema curators write against, and the loader that checks a directory of YAML.

Imported by ``bot.knowledge.loading.load_knowledge`` on first use, so that pydantic and PyYAML
are loaded only by a process that validates a knowledge base. Validation (pydantic v2,
``extra="forbid"``) reports every problem with file, line, entry id and field, all at
once, and returns nothing unless the whole base is valid. Across the base, ids and titles
are unique: a title shared by two entries reads as one line twice wherever titles are listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.errors import KnowledgeError, Problem
from bot.knowledge.base import (
    MAX_ANSWER_CHARS,
    MAX_ANSWER_SENTENCES,
    MAX_EVIDENCE_CHARS,
    MIN_QUESTIONS,
    TOPICS,
    Document,
    Entry,
    KnowledgeBase,
    PartialDate,
    SourceRef,
    count_sentences,
    knowledge_files,
    phrasing_key,
)
from bot.knowledge.lexicon import Lexicon
from bot.knowledge.lexicon_schema import LexiconModel

__all__ = ["validate_directory"]

_SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class _SourceModel(_Strict):
    doc: str = Field(min_length=1)
    paragraphs: list[int] = Field(min_length=1)
    evidence: str = Field(min_length=8, max_length=MAX_EVIDENCE_CHARS)

    @field_validator("paragraphs")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(p < 1 for p in value):
            raise ValueError("paragraph numbers start at 1")
        return value


def _check_date(value: str | None) -> str | None:
    if value is not None:
        PartialDate.parse(value)
    return value


class _PremiseModel(_Strict):
    """Questions that take for granted what the notes contradict, and the one sentence,
    drawn from the entry's own answer, that sets the record straight."""

    correction: str = Field(min_length=10, max_length=200)
    questions: list[str] = Field(min_length=1)

    @field_validator("correction")
    @classmethod
    def _one_sentence(cls, value: str) -> str:
        if count_sentences(value) != 1:
            raise ValueError("must be one sentence")
        return value


class _EntryModel(_Strict):
    id: str = Field(pattern=_SLUG, max_length=80)
    kind: Literal["milestone", "person", "term", "quote", "fact", "recommendation", "reaction", "obstacle"]
    title: str = Field(min_length=3, max_length=120)
    answer: str = Field(min_length=20, max_length=MAX_ANSWER_CHARS)
    questions: list[str] = Field(min_length=MIN_QUESTIONS)
    near_misses: list[str] = Field(default_factory=list)
    false_premise: _PremiseModel | None = None
    topics: list[str] = Field(min_length=1)
    source: _SourceModel
    as_of: str
    date: str | None = None
    status: Literal["reported", "planned"] = "reported"
    first: bool = False
    related: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    role: str | None = None
    # How the notes' readers refer to a person: "she" after a question about Lindgren is
    # Lindgren, never Brummer. Only a person entry has one.
    pronoun: Literal["he", "she", "they"] | None = None
    # What the source is silent on about this entry's subject: "reasons" when it reports
    # something but never why ("why did france object?" is declined, the entry offered),
    # "place" when it never says where ("where was air defender held?").
    silent_on: list[Literal["reasons", "place"]] = Field(default_factory=list)
    speaker: str | None = None
    quote: str | None = None
    occasion: str | None = None

    _dates = field_validator("as_of", "date", mode="before")(
        lambda cls, v: _check_date(None if v is None else str(v))
    )

    @field_validator("answer")
    @classmethod
    def _short(cls, value: str) -> str:
        sentences = count_sentences(value)
        if sentences > MAX_ANSWER_SENTENCES:
            raise ValueError(f"has {sentences} sentences; at most {MAX_ANSWER_SENTENCES}")
        return value

    @field_validator("questions", "near_misses")
    @classmethod
    def _distinct_phrasings(cls, value: list[str], info: ValidationInfo) -> list[str]:
        what = "near miss" if info.field_name == "near_misses" else "question"
        folded = [phrasing_key(q) for q in value]
        if any(not q for q in folded):
            raise ValueError(f"an empty {what}")
        if len(set(folded)) != len(folded):
            raise ValueError(f"the same {what} twice")
        return value

    @field_validator("topics")
    @classmethod
    def _known_topics(cls, value: list[str]) -> list[str]:
        unknown = [t for t in value if t not in TOPICS]
        if unknown:
            raise ValueError(f"unknown topic {unknown[0]!r}; valid topics: {', '.join(TOPICS)}")
        return value

    @model_validator(mode="after")
    def _kind_fields(self) -> _EntryModel:
        required = {
            "milestone": ("date",),
            "person": ("role",),
            "quote": ("speaker", "quote", "occasion"),
            "term": ("aliases",),
        }.get(self.kind, ())
        for name in required:
            if not getattr(self, name):
                raise ValueError(f"a {self.kind} entry needs '{name}'")
        if self.pronoun is not None and self.kind != "person":
            raise ValueError(f"only a person entry has 'pronoun'; this is a {self.kind} entry")
        if self.status == "planned":
            # The entry's own as_of: a plan is a plan as of the date its source holds at.
            as_of = f"as of {PartialDate.parse(self.as_of).human()}"
            if as_of.casefold() not in self.answer.casefold():
                raise ValueError(
                    f"a planned entry's answer must say '{as_of}' so no plan reads as an outcome"
                )
        return self


class _AuthorModel(_Strict):
    name: str
    affiliation: str


class _SectionModel(_Strict):
    heading: str = Field(min_length=1)
    paragraph: int = Field(ge=1)


class _DocumentModel(_Strict):
    id: str = Field(pattern=_SLUG)
    title: str
    authors: list[_AuthorModel] = Field(min_length=1)
    published: str
    as_of: str
    paragraphs: int = Field(ge=1)
    note: str = ""
    sections: list[_SectionModel] = []

    @model_validator(mode="after")
    def _sections_in_order(self) -> _DocumentModel:
        at = [section.paragraph for section in self.sections]
        if at != sorted(set(at)) or any(p > self.paragraphs for p in at):
            raise ValueError("sections must stand at distinct paragraphs of the document, in order")
        return self

    _dates = field_validator("published", "as_of", mode="before")(lambda cls, v: _check_date(str(v)))


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


# libyaml's parser when PyYAML was built with it: several times faster at start-up.
_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_FAST_LOADER):  # type: ignore[valid-type,misc]
    """A safe loader that leaves every value's checking to the schema, where it has a place.

    A date is kept as the text the curator wrote: PyYAML would build a ``datetime.date``
    and raise a bare ValueError for ``2023-02-30``, naming no file, line, entry or field;
    as text it reaches ``PartialDate.parse`` through the schema like any other field.
    Any other value PyYAML cannot build (``!!int x``) becomes a YAML error at its node.
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, KeyError, TypeError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {node.value!r} as {node.tag}: {exc}", node.start_mark
            ) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_str)


class _Located:
    """Line numbers of a parsed YAML file, found by walking its node tree."""

    def __init__(self, node: yaml.Node | None) -> None:
        self.node = node

    def line(self, *path: str | int) -> int | None:
        node = self.node
        best = None if node is None else node.start_mark.line + 1
        for step in path:
            child: yaml.Node | None = None
            if isinstance(node, yaml.MappingNode) and isinstance(step, str):
                for key, value in node.value:
                    if key.value == step:
                        best = key.start_mark.line + 1
                        child = value
                        break
            elif (
                isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value)
            ):
                child = node.value[step]
                best = child.start_mark.line + 1
            if child is None:
                break
            node = child
        return best

    def at(self, line: int) -> tuple[str | None, str | None]:
        """The id of the entry (or document) written over ``line``, and the field on it.

        For a problem found while the file is read, before any entry exists: the item is
        the last one starting at or before the line, and so is the field within it.
        """
        row = line - 1
        section = _child_at(self.node, row)
        item = _child_at(section[1], row) if section is not None else None
        if item is None or not isinstance(item[1], yaml.MappingNode):
            return None, None
        index, node = item
        ids = [v.value for k, v in node.value if k.value == "id" and isinstance(v, yaml.ScalarNode)]
        path: list[str] = []
        child = _child_at(node, row)
        while child is not None:
            path.append(str(child[0]))
            child = _child_at(child[1], row)
        return (str(ids[0]) if ids else f"#{int(index) + 1}"), ".".join(path) or None


def _child_at(node: yaml.Node | None, row: int) -> tuple[str | int, yaml.Node] | None:
    """The last child of a mapping (by key) or sequence (by index) starting by ``row``."""
    children: list[tuple[str | int, yaml.Node, int]]
    if isinstance(node, yaml.MappingNode):
        children = [(key.value, value, key.start_mark.line) for key, value in node.value]
    elif isinstance(node, yaml.SequenceNode):
        children = [(index, value, value.start_mark.line) for index, value in enumerate(node.value)]
    else:
        return None
    before = [(label, child) for label, child, start in children if start <= row]
    return before[-1] if before else None


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def _pydantic_problems(
    error: ValidationError, file: str, located: _Located, base: Sequence[str | int], entry_id: str | None
) -> list[Problem]:
    problems = []
    for item in error.errors():
        # A mapping's key is checked at (…, key, "[key]"): the problem is the key's own.
        loc = [part for part in item["loc"] if isinstance(part, str | int) and part != "[key]"]
        field_name = ".".join(str(p) for p in loc) or None
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "is not a known field"
        elif item["type"] == "missing":
            message = "is required"
        problems.append(Problem(file, located.line(*base, *loc), entry_id, field_name, message))
    return problems


def _read_yaml(path: Path, name: str) -> tuple[Any, _Located] | Problem:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Problem(name, None, None, None, f"cannot be read: {exc}")
    node: yaml.Node | None = None
    try:
        # One parse: the data is constructed from the node tree kept for line numbers,
        # as yaml.load would construct it from a tree of its own. Merge keys ("<<")
        # rewrite the tree while it is constructed, so such a file is parsed twice.
        loader = _Loader(text)  # a SafeLoader (C or Python): no arbitrary objects
        try:
            node = loader.get_single_node()
            if "<<" in text:
                data = yaml.load(text, Loader=_Loader)
            else:
                data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        detail = getattr(exc, "problem", None) or str(exc)
        entry_id, field_name = _Located(node).at(line) if line is not None else (None, None)
        return Problem(name, line, entry_id, field_name, f"is not valid YAML: {detail}")
    return data, _Located(node)


def validate_directory(root: Path) -> KnowledgeBase:
    """Every ``*.yaml`` file in ``root``, validated; raise KnowledgeError listing all problems."""
    problems: list[Problem] = []
    if not root.is_dir():
        raise KnowledgeError([Problem(str(root), None, None, None, "is not a directory")])
    files = knowledge_files(root)
    if not files:
        raise KnowledgeError([Problem(str(root), None, None, None, "holds no .yaml files")])

    raw_entries: list[_Placed] = []
    documents: dict[str, Document] = {}
    lexicon = Lexicon()
    lexicon_file = ""
    seen: dict[str, str] = {}

    for path in files:
        name = _display(path, root)
        parsed = _read_yaml(path, name)
        if isinstance(parsed, Problem):
            problems.append(parsed)
            continue
        data, located = parsed
        if not isinstance(data, dict) or not data.keys() <= {"entries", "documents", "lexicon"} or not data:
            problems.append(
                Problem(name, 1, None, None, "must be a mapping with 'entries:', 'documents:' or 'lexicon:'")
            )
            continue
        if "lexicon" in data:
            if lexicon_file:
                line = located.line("lexicon")
                problems.append(Problem(name, line, None, "lexicon", f"is also given in {lexicon_file}"))
                continue
            lexicon_file = name
            try:
                lexicon = LexiconModel.model_validate(data["lexicon"] or {}).freeze(name)
            except ValidationError as exc:
                problems.extend(_pydantic_problems(exc, name, located, ("lexicon",), "lexicon"))
        for index, item in enumerate(data.get("documents") or []):
            base = ("documents", index)
            doc_id = item.get("id") if isinstance(item, dict) else None
            try:
                doc = _DocumentModel.model_validate(item)
            except ValidationError as exc:
                problems.extend(_pydantic_problems(exc, name, located, base, doc_id))
                continue
            documents[doc.id] = Document(
                id=doc.id,
                title=doc.title,
                authors=tuple(a.name for a in doc.authors),
                affiliations=tuple(a.affiliation for a in doc.authors),
                published=PartialDate.parse(doc.published),
                as_of=PartialDate.parse(doc.as_of),
                paragraphs=doc.paragraphs,
                note=doc.note,
                sections=tuple((section.paragraph, section.heading) for section in doc.sections),
            )
        entries = data.get("entries") or []
        if not isinstance(entries, list):
            problems.append(Problem(name, located.line("entries"), None, None, "'entries' must be a list"))
            continue
        for index, item in enumerate(entries):
            base = ("entries", index)
            entry_id = item.get("id") if isinstance(item, dict) else None
            entry_id = str(entry_id) if entry_id is not None else f"#{index + 1}"
            if not isinstance(item, dict):
                problems.append(Problem(name, located.line(*base), entry_id, None, "must be a mapping"))
                continue
            try:
                model = _EntryModel.model_validate(item)
            except ValidationError as exc:
                problems.extend(_pydantic_problems(exc, name, located, base, entry_id))
                continue
            line = located.line(*base) or 0
            if model.id in seen:
                problems.append(
                    Problem(name, line, model.id, "id", f"duplicates the id defined in {seen[model.id]}")
                )
                continue
            seen[model.id] = f"{name}:{line}"
            raw_entries.append(_Placed(model, name, line, located, base))

    entries_out: list[Entry] = []
    for placed in raw_entries:
        model, name, line = placed.model, placed.file, placed.line
        entry_problems = _cross_check(model, seen, documents)
        problems.extend(Problem(name, line, model.id, f, m) for f, m in entry_problems)
        entries_out.append(_freeze(model, name, line))
    problems.extend(_phrasing_clashes(raw_entries))
    problems.extend(_duplicate_titles(raw_entries))

    if not documents and not problems:
        problems.append(Problem(str(root), None, None, None, "describes no source document"))
    if problems:
        raise KnowledgeError(problems)
    return KnowledgeBase(entries=tuple(entries_out), documents=documents, directory=root, lexicon=lexicon)


@dataclass(frozen=True)
class _Placed:
    """An entry that validated on its own, with where it stands, for checks across entries."""

    model: _EntryModel
    file: str
    line: int
    located: _Located
    base: tuple[str, int]

    def item_line(self, field_name: str, index: int) -> int:
        return self.located.line(*self.base, *field_name.split("."), index) or self.line

    def field_line(self, field_name: str) -> int:
        return self.located.line(*self.base, field_name) or self.line


def _phrasing_clashes(placed: Sequence[_Placed]) -> Iterator[Problem]:
    """Near misses that repeat any entry's question, or an earlier near miss, anywhere in the base.

    A near miss is a question the notes cannot answer; one that is also curated as a way of
    asking for an entry would teach the bot both to answer and to decline the same words.
    """
    questions: dict[str, tuple[_Placed, int]] = {}
    for entry in placed:
        for index, question in enumerate(entry.model.questions):
            questions.setdefault(phrasing_key(question), (entry, index))
    near_misses: dict[str, tuple[_Placed, int, str]] = {}
    for entry in placed:
        premise = entry.model.false_premise
        declined = [("near_misses", i, text) for i, text in enumerate(entry.model.near_misses)]
        if premise is not None:
            declined += [("false_premise.questions", i, text) for i, text in enumerate(premise.questions)]
        for field_name, index, text in declined:
            key = phrasing_key(text)
            if key in questions:
                other, at = questions[key]
                where = f"{other.file}:{other.item_line('questions', at)}"
                message = f"'{text}' is a question of entry '{other.model.id}' ({where}): the notes answer it"
            elif key in near_misses:
                other, at, other_field = near_misses[key]
                where = f"{other.file}:{other.item_line(other_field, at)}"
                what = "a near miss" if other_field == "near_misses" else "a false-premise question"
                message = f"'{text}' is already {what} of entry '{other.model.id}' ({where})"
            else:
                near_misses[key] = (entry, index, field_name)
                continue
            line = entry.item_line(field_name, index)
            yield Problem(entry.file, line, entry.model.id, field_name, message)


def _cross_check(
    model: _EntryModel, ids: Mapping[str, str], documents: Mapping[str, Document]
) -> Iterable[tuple[str, str]]:
    for other in model.related:
        if other not in ids:
            yield "related", f"names '{other}', which is no entry's id"
        elif other == model.id:
            yield "related", "names the entry itself"
    document = documents.get(model.source.doc)
    if document is None:
        yield "source.doc", f"'{model.source.doc}' is not described in a documents: list"
    else:
        beyond = [p for p in model.source.paragraphs if p > document.paragraphs]
        if beyond:
            yield "source.paragraphs", f"{beyond[0]} is past the document's {document.paragraphs}"


def _duplicate_titles(placed: Sequence[_Placed]) -> Iterator[Problem]:
    """Two entries with one title read as one line twice wherever titles are listed ("Related")."""
    first: dict[str, _Placed] = {}
    for entry in placed:
        folded = " ".join(entry.model.title.casefold().split())
        other = first.setdefault(folded, entry)
        if other is entry:
            continue
        yield Problem(
            entry.file,
            entry.field_line("title"),
            entry.model.id,
            "title",
            f"duplicates the title of entry '{other.model.id}' ({other.file}:{other.field_line('title')}, "
            "field 'title'); titles must differ",
        )


def _freeze(model: _EntryModel, file: str, line: int) -> Entry:
    return Entry(
        id=model.id,
        kind=model.kind,
        title=model.title,
        answer=model.answer,
        questions=tuple(model.questions),
        near_misses=tuple(model.near_misses),
        false_premises=tuple(model.false_premise.questions) if model.false_premise else (),
        correction=model.false_premise.correction if model.false_premise else None,
        topics=tuple(model.topics),
        source=SourceRef(model.source.doc, tuple(model.source.paragraphs), model.source.evidence),
        as_of=PartialDate.parse(model.as_of),
        file=file,
        line=line,
        date=PartialDate.parse(model.date) if model.date else None,
        status=model.status,
        first=model.first,
        related=tuple(model.related),
        aliases=tuple(model.aliases),
        role=model.role,
        pronoun=model.pronoun,
        silent_on=tuple(model.silent_on),
        speaker=model.speaker,
        quote=model.quote,
        occasion=model.occasion,
    )
