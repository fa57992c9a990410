#!/usr/bin/env python3
"""Determinism lint for floe's simulated code (sim/, node/, scenarios/).

Code under those directories runs inside the simulator, so what it does must follow from the
scenario and the root seed alone. This lint rejects the usual ways host nondeterminism gets in:
wall clocks, OS threads, unseeded randomness, hashing or ordering by address, iteration over
unordered containers, and environment variables.

The check only looks at tokens; it does not compile anything. Comments and the contents of
string and char literals are blanked out first, keeping every newline, so line numbers stay
right. Then each rule's patterns are matched against what is left.

Usage:   lint_determinism.py [--root DIR] [PATH ...]
Opt out: put  // lint: allow(<rule-name>) <reason>  on the offending line.
"""
from __future__ import annotations

import argparse
import bisect
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

DEFAULT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIRS = ("sim", "node", "scenarios")
HEADER_SUFFIXES = (".h", ".hpp")
SOURCE_SUFFIXES = HEADER_SUFFIXES + (".cc", ".cpp")

# ---------------------------------------------------------------------------------------------
# Blanking comments and literals
# ---------------------------------------------------------------------------------------------

RAW_STRING_PREFIXES = frozenset({"R", "LR", "uR", "UR", "u8R"})


def strip_code(text: str) -> tuple[str, list[tuple[int, str]]]:
    """Return (code, line_comments).

    code is text with comments and literal contents replaced by spaces (quotes are kept, so
    `"..."` still reads as an expression). Every newline stays where it was, so offsets and
    line numbers in code match text. line_comments lists (offset, body) for each // comment,
    which is where allow directives live.
    """
    out = list(text)
    comments: list[tuple[int, str]] = []
    i, n = 0, len(text)
    while i < n:
        if text.startswith("//", i):
            end = _line_comment_end(text, i)
            comments.append((i, text[i + 2:end]))
            _blank(out, i, end)
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            _blank(out, i, end)
            i = end
        elif text[i] == '"' or (text[i] == "'" and not _is_digit_separator(text, i)):
            start = i
            body_end, i = _literal_extent(text, i)
            _blank(out, start + 1, body_end)
        else:
            i += 1
    return "".join(out), comments


def _literal_extent(text: str, quote: int) -> tuple[int, int]:
    """(offset of the closing quote, offset just past it) for the literal opening at quote."""
    if text[quote] == '"':
        return _raw_string_extent(text, quote) or _quoted_extent(text, quote, '"')
    return _quoted_extent(text, quote, "'")


def _blank(out: list[str], start: int, end: int) -> None:
    for k in range(start, end):
        if out[k] != "\n":
            out[k] = " "


def _line_comment_end(text: str, start: int) -> int:
    """End of a // comment; a trailing backslash continues it onto the next line."""
    end = text.find("\n", start)
    while end >= 0 and text[start:end].rstrip("\r").endswith("\\"):
        end = text.find("\n", end + 1)
    return len(text) if end < 0 else end


def _quoted_extent(text: str, quote: int, mark: str) -> tuple[int, int]:
    """(offset of the closing quote, offset just past it) for an ordinary literal.

    An unterminated literal stops at the end of its line, so one stray quote (say in an
    `#error don't` line) cannot blank the rest of the file.
    """
    j, n = quote + 1, len(text)
    while j < n:
        ch = text[j]
        if ch == "\\":
            j += 2
        elif ch == mark:
            return j, j + 1
        elif ch == "\n":
            return j, j
        else:
            j += 1
    return n, n


def _raw_string_extent(text: str, quote: int) -> tuple[int, int] | None:
    """Like _quoted_extent for R"delim( ... )delim", or None if this quote starts no raw string."""
    prefix_start = quote
    while prefix_start > 0 and _is_word_char(text[prefix_start - 1]):
        prefix_start -= 1
    if text[prefix_start:quote] not in RAW_STRING_PREFIXES:
        return None
    open_paren = text.find("(", quote + 1, quote + 18)  # delimiters are at most 16 chars
    delim = text[quote + 1:open_paren]
    if open_paren < 0 or any(ch in delim for ch in ' ()\\\t\n"'):
        return None
    close = text.find(")" + delim + '"', open_paren + 1)
    if close < 0:
        return len(text), len(text)
    closing_quote = close + 1 + len(delim)
    return closing_quote, closing_quote + 1


def _is_digit_separator(text: str, quote: int) -> bool:
    """True for the ' in 1'000'000 (C++14 digit separator), which opens no char literal."""
    j = quote
    while j > 0 and (_is_word_char(text[j - 1]) or text[j - 1] == "'"):
        j -= 1
    return j < quote and text[j].isdigit()


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


# ---------------------------------------------------------------------------------------------
# Sources, hits and violations
# ---------------------------------------------------------------------------------------------


@dataclass
class Source:
    rel: str  # path as printed: relative to root when possible
    text: str
    code: str = field(init=False, repr=False)
    comments: list[tuple[int, str]] = field(init=False, repr=False)
    _line_starts: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.code, self.comments = strip_code(self.text)
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]

    @property
    def is_header(self) -> bool:
        return self.rel.endswith(HEADER_SUFFIXES)

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self._line_starts, offset)


@dataclass(frozen=True)
class Hit:
    offset: int
    what: str


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    rule: str
    what: str
    why: str
    use: str

    def format(self) -> str:
        return f"{self.path}:{self.line}: banned {self.what}: {self.why}; use {self.use}"


# ---------------------------------------------------------------------------------------------
# Small lexical helpers shared by the patterns
# ---------------------------------------------------------------------------------------------

STD = r"\bstd\s*::\s*"

# Keywords that can come right before an expression. Any other identifier right before
# `name(` means a declaration (`Instant time() const`, `Rng random(seed)`), not a call.
EXPRESSION_KEYWORDS = frozenset({
    "return", "co_return", "co_yield", "co_await", "throw", "case", "else", "do",
    "not", "and", "or", "xor", "bitand", "bitor", "compl", "new", "delete",
})


def _alt(words: Iterable[str]) -> str:
    return "(?:" + "|".join(re.escape(w) for w in words) + ")"


def _squash(s: str) -> str:
    """Normalise spacing for messages: 'std :: map < Node * >' -> 'std::map<Node*>'."""
    s = re.sub(r"\s+", " ", s.strip())
    return re.sub(r"\s*([^\w\s])\s*", r"\1", s)


def _token_before(code: str, pos: int) -> tuple[str, int]:
    """The identifier or single punctuation character ending just before pos (skipping spaces)."""
    j = pos
    while j > 0 and code[j - 1].isspace():
        j -= 1
    if j == 0:
        return "", 0
    if not _is_word_char(code[j - 1]):
        return code[j - 1], j - 1
    k = j
    while k > 0 and _is_word_char(code[k - 1]):
        k -= 1
    return code[k:j], k


def _is_type_like(token: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_]\w*", token)) and token not in EXPRESSION_KEYWORDS


def _not_after_name(code: str, m: re.Match) -> bool:
    """Reject `Type name(` (a declaration or function-style use); accept everything else."""
    return not _is_type_like(_token_before(code, m.start())[0])


def _is_c_call(code: str, m: re.Match) -> bool:
    """For C functions whose names our own classes also use (clock(), random()).

    Rejects declarations, including ones with a pointer, reference or template return type
    (`SimClock& clock() const`), and calls whose result is used as an object (`clock().now()`);
    the C function returns an integer, which has no members.
    """
    if not _not_after_name(code, m):
        return False
    token, at = _token_before(code, m.start())
    if token in ("*", "&", ">"):
        before = _token_before(code, at)[0]
        if _is_type_like(before) or before in ("*", "&", ">"):
            return False
    return not code[m.end():].lstrip().startswith((".", "->"))


def _template_args(code: str, lt: int) -> tuple[list[str], int] | None:
    """Split the template argument list opening at code[lt] == '<' at its top-level commas.

    Returns (args, offset just past the closing '>'), or None if this '<' turns out to be a
    comparison (we hit ';' or an unbalanced bracket first).
    """
    depth, start, args = 0, lt + 1, []
    for k in range(lt + 1, min(len(code), lt + 4000)):
        ch = code[k]
        if ch == ">" and code[k - 1] == "-":  # '->' in a trailing return type
            continue
        if ch in "<([{":
            depth += 1
        elif ch in ">)]}":
            if depth == 0:
                if ch != ">":
                    return None
                args.append(code[start:k])
                return args, k + 1
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(code[start:k])
            start = k + 1
        elif ch == ";":
            return None
    return None


def _is_pointer_type(type_text: str) -> bool:
    # Smart pointers compare and hash by the address they hold, just like raw pointers.
    return "*" in type_text or bool(re.search(r"\b(?:unique_ptr|shared_ptr|weak_ptr)\s*<", type_text))


def _split_top_level(text: str, sep: str) -> list[str]:
    """Split at `sep` outside brackets; doubled separators (`||`, `::`) are not split points."""
    parts, depth, start = [], 0, 0
    for k, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0 and sep not in (text[k - 1:k], text[k + 1:k + 2]):
            parts.append(text[start:k])
            start = k + 1
    parts.append(text[start:])
    return parts


def _matching_close(code: str, open_at: int) -> int | None:
    """Offset of the bracket that closes code[open_at] ('(' or '{')."""
    pairs = {"(": ")", "{": "}"}
    opener, closer, depth = code[open_at], pairs[code[open_at]], 0
    for k in range(open_at, len(code)):
        if code[k] == opener:
            depth += 1
        elif code[k] == closer:
            depth -= 1
            if depth == 0:
                return k
    return None


# ---------------------------------------------------------------------------------------------
# Patterns: each yields Hits for one kind of construct
# ---------------------------------------------------------------------------------------------

Guard = Callable[[str, re.Match], bool]


class RegexPattern:
    """A regex over blanked code. `label` is formatted with the named group 'what' (or the whole
    match); `guard` can veto a match by looking at its surroundings."""

    def __init__(self, regex: str, label: str = "{}", guard: Guard | None = None, flags: int = 0):
        self.regex = re.compile(regex, flags)
        self.label = label
        self.guard = guard

    def find(self, src: Source, ctx: "UnorderedNames") -> Iterator[Hit]:
        for m in self.regex.finditer(src.code):
            if self.guard and not self.guard(src.code, m):
                continue
            text = m["what"] if "what" in self.regex.groupindex else m[0]
            yield Hit(m.start(), self.label.format(_squash(text)))


class PointerKeyPattern:
    """`name<First, ...>` where First is a pointer type: a container keyed by address, or a
    hash/comparator over addresses. Only the first top-level argument matters, so
    `std::map<HostId, Host*>` (pointer values) is fine. A container given its own comparator or
    hasher (`std::set<Node*, ById>`) orders by that, so it is fine too."""

    def __init__(self, names: Sequence[str], functor_arg: dict[str, int] | None = None):
        self.regex = re.compile(rf"(?P<name>(?:{STD})?\b(?P<base>{_alt(names)}))\s*<(?![<=])")
        self.functor_arg = functor_arg or {}  # template name -> index of its comparator/hasher

    def find(self, src: Source, ctx: "UnorderedNames") -> Iterator[Hit]:
        for m in self.regex.finditer(src.code):
            parsed = _template_args(src.code, m.end() - 1)
            if not parsed or not _is_pointer_type(parsed[0][0]) or self._custom_functor(m["base"], parsed[0]):
                continue
            args = parsed[0]
            more = ", ..." if len(args) > 1 else ""
            yield Hit(m.start(), f"{_squash(m['name'])}<{_squash(args[0])}{more}>")

    def _custom_functor(self, base: str, args: list[str]) -> bool:
        index = self.functor_arg.get(base)
        if index is None or index >= len(args):
            return False
        return not re.match(rf"\s*(?:{STD})?(?:{_alt(POINTER_FUNCTORS)})\s*<", args[index])


class UnorderedIterationPattern:
    """Range-for or begin() over a name declared with an unordered container type.

    Lookups (find/count/contains/at/[]/end) are fine and never match. Two common idioms that
    do not leak the order are accepted: collecting into a vector that the next statement
    sorts, and copying into an ordered std::map/std::set.
    """

    FOR = re.compile(r"\bfor\s*\(")
    MEMBER_BEGIN = re.compile(r"\b(?P<name>\w+)\s*(?:\(\s*\))?\s*(?:\.|->)\s*c?r?begin\s*\(")
    FREE_BEGIN = re.compile(rf"{STD}(?:ranges\s*::\s*)?c?r?begin\s*\(")

    def find(self, src: Source, ctx: "UnorderedNames") -> Iterator[Hit]:
        names = ctx.visible_in(src.rel)
        if names:
            yield from self._range_fors(src.code, names)
            yield from self._begins(src.code, names)

    def _range_fors(self, code: str, names: frozenset[str]) -> Iterator[Hit]:
        for m in self.FOR.finditer(code):
            close = _matching_close(code, m.end() - 1)
            if close is None:
                continue
            expr = _range_expression(code[m.end():close])
            name = _container_name(expr) if expr is not None else None
            if name in names and not _collects_then_sorts(code, close + 1):
                yield Hit(m.start(), f"range-for over unordered container '{name}'")

    def _begins(self, code: str, names: frozenset[str]) -> Iterator[Hit]:
        for m in [*self.MEMBER_BEGIN.finditer(code), *self.FREE_BEGIN.finditer(code)]:
            name = m["name"] if "name" in m.re.groupindex else _call_argument_name(code, m.end() - 1)
            if name in names and not _copies_in_order(code, m.start()):
                yield Hit(m.start(), f"begin() of unordered container '{name}'")


def _call_argument_name(code: str, open_paren: int) -> str | None:
    close = _matching_close(code, open_paren)
    return None if close is None else _container_name(code[open_paren + 1:close])


def _range_expression(header: str) -> str | None:
    """The part after ':' in a range-for header, or None for a classic for(;;)."""
    depth, semicolons, colon = 0, 0, None
    for k, ch in enumerate(header):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch == ";":
            semicolons, colon = semicolons + 1, None  # a C++20 init-statement came first
        elif depth == 0 and ch == ":" and colon is None and ":" not in (header[k - 1:k], header[k + 1:k + 2]):
            colon = k
    if semicolons >= 2 or colon is None:
        return None
    return header[colon + 1:]


# Views that keep the order of what they wrap: iterating through them is iterating the container.
_ORDER_KEEPING_WRAPPER = re.compile(
    rf"(?:{STD})?(?:ranges\s*::\s*)?(?:views\s*::\s*)?(?:as_const|keys|values|all|reverse)\s*\((?P<inner>.*)\)",
    re.S,
)
# `a.b->c_`, `this->peers_`, `Foo::instance().peers()`, `*ptr`: the last identifier names it.
_ACCESS_PATH = re.compile(
    r"[*&\s]*(?:(?:\w+\s*::\s*)*\w+\s*(?:\(\s*\))?\s*(?:\.|->)\s*)*(?:\w+\s*::\s*)*(?P<name>\w+)\s*(?:\(\s*\))?\s*",
    re.S,
)


def _container_name(expr: str) -> str | None:
    """The container a range expression iterates, if it is a plain access path (possibly
    through order-keeping views or a `|` pipeline). Anything else, like `sorted_keys(peers_)`,
    returns None: we assume the function establishes an order."""
    expr = _split_top_level(expr.strip(), "|")[0].strip()
    while (wrapped := _ORDER_KEEPING_WRAPPER.fullmatch(expr)) is not None:
        expr = wrapped["inner"].strip()
    path = _ACCESS_PATH.fullmatch(expr)
    return path["name"] if path else None


_COLLECT_BODY = re.compile(r"\{?\s*(?P<vec>\w+)\s*\.\s*(?:push_back|emplace_back)\s*\([^;]*\)\s*;\s*\}?", re.S)
_SORT_CALL = re.compile(rf"(?:{STD})?(?:ranges\s*::\s*)?(?:stable_)?sort\s*\(\s*(?P<vec>\w+)\b")
_ORDERED_DECL = re.compile(rf"\s*(?:const\s+)?(?:{STD})?(?:map|set|multimap|multiset)\s*<")


def _collects_then_sorts(code: str, body_start: int) -> bool:
    """`for (k : m) v.push_back(k);` directly followed by `std::sort(v...)`."""
    body, after = _loop_body(code, body_start)
    collect = _COLLECT_BODY.fullmatch(body.strip())
    return bool(collect) and _next_statement_sorts(code, after, collect["vec"])


def _copies_in_order(code: str, pos: int) -> bool:
    """The statement around `m.begin()` builds an ordered container, or builds a vector that the
    next statement sorts."""
    start = max(code.rfind(ch, 0, pos) for ch in ";{}") + 1
    end = code.find(";", pos)
    if end < 0:
        return False
    statement = code[start:end]
    if _ORDERED_DECL.match(statement):
        return True
    sort = _SORT_CALL.search(_statement_at(code, end + 1))
    return bool(sort) and re.search(rf"\b{sort['vec']}\b", statement) is not None


def _loop_body(code: str, start: int) -> tuple[str, int]:
    """(body text, offset after it) of the statement starting at `start`."""
    j = start
    while j < len(code) and code[j].isspace():
        j += 1
    if j < len(code) and code[j] == "{":
        close = _matching_close(code, j)
        end = len(code) if close is None else close + 1
    else:
        semicolon = code.find(";", j)
        end = len(code) if semicolon < 0 else semicolon + 1
    return code[j:end], end


def _statement_at(code: str, start: int) -> str:
    end = code.find(";", start)
    return code[start:] if end < 0 else code[start:end + 1]


def _next_statement_sorts(code: str, start: int, vec: str) -> bool:
    sort = _SORT_CALL.match(_statement_at(code, start).strip())
    return bool(sort) and sort["vec"] == vec


# ---------------------------------------------------------------------------------------------
# Which names hold unordered containers (collected over all scanned files)
# ---------------------------------------------------------------------------------------------

UNORDERED_TYPES = ("unordered_map", "unordered_set", "unordered_multimap", "unordered_multiset")
_NOT_A_NAME = frozenset({"const", "volatile", "operator", "override", "final", "noexcept"})
_DECL_TAIL = re.compile(
    r"\s*(?:(?:const|volatile)\b\s*|&&?\s*|\*\s*)*(?P<name>[A-Za-z_]\w*)\s*(?P<next>[;={(,)\[])"
)


@dataclass(frozen=True)
class UnorderedNames:
    # Declared in headers (members, getters): visible to every scanned file.
    shared: frozenset[str]
    # Declared in a .cpp, or as a parameter anywhere: visible only in that file, so a local
    # `m` in one file does not make every `for (x : m)` elsewhere suspicious.
    local: dict[str, frozenset[str]]

    def visible_in(self, rel: str) -> frozenset[str]:
        return self.shared | self.local.get(rel, frozenset())


def collect_unordered_names(sources: Sequence[Source]) -> UnorderedNames:
    types = _unordered_type_names(sources)
    shared: set[str] = set()
    local: dict[str, frozenset[str]] = {}
    for src in sources:
        members, params = _declared_names(src.code, types)
        if src.is_header:
            shared |= members
            local[src.rel] = frozenset(params)
        else:
            local[src.rel] = frozenset(members | params)
    return UnorderedNames(frozenset(shared), local)


def _unordered_type_names(sources: Sequence[Source]) -> frozenset[str]:
    """The std unordered types plus every alias of them (`using PeerMap = ...`), transitively."""
    types = set(UNORDERED_TYPES)
    while True:
        found = set().union(*(_aliases(src.code, types) for src in sources))
        if found <= types:
            return frozenset(types)
        types |= found


def _aliases(code: str, types: set[str]) -> set[str]:
    t = _alt(sorted(types))
    names = set(re.findall(rf"\busing\s+(\w+)\s*=\s*(?:typename\s+)?(?:const\s+)?(?:\w+\s*::\s*)*{t}\b", code))
    for m in re.finditer(rf"\btypedef\s+(?:const\s+)?(?:\w+\s*::\s*)*{t}\b\s*", code):
        pos = _skip_template_args(code, m.end())
        alias = re.compile(r"\s*(\w+)\s*;").match(code, pos) if pos is not None else None
        if alias:
            names.add(alias[1])
    return names


def _declared_names(code: str, types: frozenset[str]) -> tuple[set[str], set[str]]:
    """(members/variables/getters, parameters) declared with one of `types`."""
    members: set[str] = set()
    params: set[str] = set()
    for m in re.finditer(rf"\b{_alt(sorted(types))}\b", code):
        pos = _skip_template_args(code, m.end())
        decl = _DECL_TAIL.match(code, pos) if pos is not None else None
        if decl and decl["name"] not in _NOT_A_NAME:
            (params if decl["next"] in ",)" else members).add(decl["name"])
    return members, params


def _skip_template_args(code: str, pos: int) -> int | None:
    """Offset after an optional `<...>` at pos; None if it is there but unbalanced."""
    j = pos
    while j < len(code) and code[j].isspace():
        j += 1
    if not code.startswith("<", j):
        return pos
    parsed = _template_args(code, j)
    return parsed[1] if parsed else None


# ---------------------------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    name: str
    why: str
    use: str
    patterns: tuple

    def find(self, src: Source, ctx: UnorderedNames) -> Iterator[Hit]:
        for pattern in self.patterns:
            yield from pattern.find(src, ctx)


WALL_CLOCKS = ("system_clock", "steady_clock", "high_resolution_clock",
               "utc_clock", "tai_clock", "gps_clock", "file_clock")
THREAD_TYPES = ("thread", "jthread", "this_thread", "async", "future", "shared_future", "promise",
                "packaged_task", "mutex", "recursive_mutex", "shared_mutex", "timed_mutex",
                "recursive_timed_mutex", "shared_timed_mutex", "condition_variable",
                "condition_variable_any", "counting_semaphore", "binary_semaphore", "latch", "barrier")
THREAD_HEADERS = ("thread", "mutex", "shared_mutex", "future", "condition_variable", "semaphore",
                  "latch", "barrier", "pthread.h", "threads.h")
RANDOM_ENGINES = ("random_device", "mt19937", "mt19937_64", "minstd_rand", "minstd_rand0",
                  "default_random_engine", "knuth_b", "linear_congruential_engine",
                  "mersenne_twister_engine", "subtract_with_carry_engine", "discard_block_engine",
                  "independent_bits_engine", "shuffle_order_engine")
DISTRIBUTIONS = (
    "uniform_int_distribution", "uniform_real_distribution", "bernoulli_distribution",
    "binomial_distribution", "geometric_distribution", "negative_binomial_distribution",
    "poisson_distribution", "exponential_distribution", "gamma_distribution",
    "weibull_distribution", "extreme_value_distribution", "normal_distribution",
    "lognormal_distribution", "chi_squared_distribution", "cauchy_distribution",
    "fisher_f_distribution", "student_t_distribution", "discrete_distribution",
    "piecewise_constant_distribution", "piecewise_linear_distribution", "generate_canonical",
)
# Containers that order or hash by their key, mapped to the position of their comparator/hasher.
KEYED_CONTAINERS = {"set": 1, "multiset": 1, "flat_set": 1, "flat_multiset": 1,
                    "unordered_set": 1, "unordered_multiset": 1,
                    "map": 2, "multimap": 2, "flat_map": 2, "flat_multimap": 2,
                    "unordered_map": 2, "unordered_multimap": 2}
POINTER_FUNCTORS = ("hash", "less", "greater", "less_equal", "greater_equal", "owner_less")

# A call is only "free" when not reached through an object or a class: `x.time(`, `p->time(`,
# `Foo::time(` and `Foo<T>::time(` are our own members.
FREE = r"(?<![\w.>:])"
GLOBAL = r"(?<![\w:>])::\s*"
INCLUDE = r"^[ \t]*#[ \t]*include[ \t]*<(?P<what>{})>"

RULES: tuple[Rule, ...] = (
    Rule(
        "wall-clock",
        "host time differs on every run, so replaying a seed diverges",
        "sim virtual time: Runtime::now() / Scheduler::now()",
        (
            RegexPattern(rf"\b(?P<what>{_alt(WALL_CLOCKS)})\b", "std::chrono::{}"),
            RegexPattern(rf"(?P<what>{STD}time|{GLOBAL}time)\s*\(", "{}()"),
            # Bare time(): only the C call shapes, because `time()` with no argument is how our
            # classes spell their virtual-time accessor (and C's time() needs an argument).
            RegexPattern(rf"{FREE}time\s*\(\s*(?:(?:nullptr|NULL|0)\s*\)|&)", "time()"),
            RegexPattern(r"\b(?P<what>gettimeofday|clock_gettime|timespec_get)\b", "{}()"),
            RegexPattern(rf"(?P<what>{STD}clock|{GLOBAL}clock)\s*\(\s*\)", "{}()"),
            RegexPattern(rf"{FREE}clock\s*\(\s*\)", "clock()", _is_c_call),
        ),
    ),
    Rule(
        "thread",
        "OS threads are scheduled by the host, so interleavings differ between runs",
        "fibers and fiber-aware primitives: spawn(), sim::Mutex, sim::Semaphore, sim::Notify",
        (
            RegexPattern(rf"{STD}(?P<what>{_alt(THREAD_TYPES)})\b", "std::{}"),
            RegexPattern(r"\b(?P<what>pthread_\w+|thrd_create)\b", "{}"),
            RegexPattern(INCLUDE.format(_alt(THREAD_HEADERS)), "#include <{}>", flags=re.M),
        ),
    ),
    Rule(
        "random",
        "host entropy and implementation-defined algorithms cannot be replayed from the root seed",
        "a named stream from the root seed: Rng::below/uniform01/exponential/bernoulli/shuffle/choose",
        (
            RegexPattern(rf"{FREE}(?P<what>rand|srand|srandom|rand_r)\s*\(", "{}()", _not_after_name),
            RegexPattern(rf"{FREE}random\s*\(\s*\)", "random()", _is_c_call),
            RegexPattern(rf"(?P<what>{STD}(?:rand|srand)|{GLOBAL}(?:rand|srand|random|srandom|rand_r))\s*\(", "{}()"),
            RegexPattern(r"\b(?P<what>[dejlmn]rand48|srand48|seed48|lcong48|arc4random\w*|getrandom|getentropy)\b", "{}()"),
            RegexPattern(rf"\b(?P<what>{_alt(RANDOM_ENGINES)}|ranlux\w*)\b", "std::{}"),
            RegexPattern(rf"\b(?P<what>{_alt(DISTRIBUTIONS)})\b", "std::{}"),
            RegexPattern(rf"(?P<what>{STD}(?:ranges\s*::\s*)?(?:shuffle|sample)|\brandom_shuffle)\b", "{}"),
            RegexPattern(INCLUDE.format("random"), "#include <{}>", flags=re.M),
        ),
    ),
    Rule(
        "pointer-order",
        "addresses change between runs (ASLR, allocator state), so the order or hash changes too",
        "key by a stable id (HostId, FiberId, blob id), never by address",
        (
            PointerKeyPattern(tuple(KEYED_CONTAINERS), KEYED_CONTAINERS),
            PointerKeyPattern(POINTER_FUNCTORS),
            RegexPattern(rf"\b(?:reinterpret_cast|bit_cast)\s*<\s*(?:{STD})?"
                         r"(?:u?intptr_t|size_t|u?int64_t|(?:unsigned\s+)?long(?:\s+long)?)\s*>"),
            # C-style cast; `sizeof(uintptr_t)` and `void(uintptr_t)` follow a name, so they don't count.
            RegexPattern(rf"\(\s*(?:{STD})?u?intptr_t\s*\)(?=\s*[\w(&*])", "{}", _not_after_name),
        ),
    ),
    Rule(
        "unordered-iteration",
        "iteration order depends on hash values, bucket count and insertion history",
        "iterate a std::map / sorted vector, or sort the keys first",
        (UnorderedIterationPattern(),),
    ),
    Rule(
        "getenv",
        "the environment is a hidden input that differs between machines and runs",
        "pass configuration explicitly (Config / --set)",
        (RegexPattern(rf"(?:{STD})?\b(?:secure_getenv|getenv)\b"),),
    ),
)
RULE_NAMES = tuple(rule.name for rule in RULES)

# ---------------------------------------------------------------------------------------------
# Allow directives
# ---------------------------------------------------------------------------------------------

ALLOW_RULE = "allow-syntax"
ALLOW_USAGE = f"// lint: allow(<rule-name>) <reason>, rule-name one of {', '.join(RULE_NAMES)}"
# Only at the start of a // comment, so prose that mentions the syntax is not a directive.
_ALLOW = re.compile(r"\s*lint\s*:\s*allow\b(?P<rest>.*)")
_ALLOW_ARGS = re.compile(r"\(\s*(?P<rules>[\w-]+(?:\s*,\s*[\w-]+)*)\s*\)\s*(?P<reason>\S.*)?")


def parse_allows(src: Source) -> tuple[dict[int, set[str]], list[Violation]]:
    """Lines -> rules allowed there, plus a violation for each malformed directive.

    A malformed directive suppresses nothing, so fixing it never hides a new finding.
    """
    allowed: dict[int, set[str]] = {}
    problems: list[Violation] = []
    for offset, comment in src.comments:
        directive = _ALLOW.match(comment)
        if not directive:
            continue
        line = src.line_of(offset)
        args = _ALLOW_ARGS.fullmatch(directive["rest"].strip())
        rules = re.split(r"\s*,\s*", args["rules"]) if args else []
        unknown = [r for r in rules if r not in RULE_NAMES]
        if not args or not args["reason"]:
            problems.append(_allow_problem(src, line, "'// lint: allow' without rule and reason",
                                           "allow needs a rule name and a reason"))
        elif unknown:
            problems.append(_allow_problem(src, line, f"'// lint: allow({args['rules']})'",
                                           f"unknown rule name '{unknown[0]}'"))
        else:
            allowed.setdefault(line, set()).update(rules)
    return allowed, problems


def _allow_problem(src: Source, line: int, what: str, why: str) -> Violation:
    return Violation(src.rel, line, ALLOW_RULE, what, why, ALLOW_USAGE)


# ---------------------------------------------------------------------------------------------
# Driving
# ---------------------------------------------------------------------------------------------


def lint_sources(sources: Sequence[Source]) -> list[Violation]:
    names = collect_unordered_names(sources)
    violations: list[tuple[int, Violation]] = []
    for src in sources:
        allowed, problems = parse_allows(src)
        violations += [(0, v) for v in problems]
        for rule in RULES:
            for hit in rule.find(src, names):
                line = src.line_of(hit.offset)
                if rule.name not in allowed.get(line, ()):
                    violations.append((hit.offset, Violation(src.rel, line, rule.name, hit.what, rule.why, rule.use)))
    order = {src.rel: k for k, src in enumerate(sources)}
    violations.sort(key=lambda ov: (order[ov[1].path], ov[1].line, ov[0]))
    return [v for _, v in violations]


def find_files(root: Path, paths: Sequence[Path] = ()) -> list[Path]:
    """Files to scan, in a stable order. Missing directories are skipped."""
    targets = list(paths) or [root / d for d in DEFAULT_DIRS]
    files: list[Path] = []
    for target in targets:
        if target.is_file():
            files.append(target)
        elif target.is_dir():
            files += sorted(p for p in target.rglob("*") if p.is_file() and p.name.endswith(SOURCE_SUFFIXES))
    return list(dict.fromkeys(files))


def display_path(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def load_sources(root: Path, paths: Sequence[Path] = ()) -> list[Source]:
    return [Source(display_path(p, root), p.read_text(encoding="utf-8", errors="replace"))
            for p in find_files(root, paths)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT,
                        help="repository root; default dirs and printed paths are relative to it")
    parser.add_argument("paths", nargs="*", type=Path,
                        help=f"files or directories to scan (default: {', '.join(DEFAULT_DIRS)} under root)")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        print(f"lint_determinism: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return 2
    sources = load_sources(args.root, args.paths)
    violations = lint_sources(sources)
    for v in violations:
        print(v.format())
    print(f"lint_determinism: {len(sources)} files scanned, {len(violations)} violations")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
