"""The query language of `autotrack runs --where`, `autotrack.search_runs` and the dashboard's filter
box, read into a tree (docs/query.md has the grammar).

    metrics.valid.auc > 0.9 and (params.max_depth in (3, 5) or tags.ticket = 'ML-42')

Python's own tokenizer cuts the text into names, numbers, strings and operators, with the column of
each; a recursive-descent parser over those tokens builds the tree, so that every error can name the
token it stopped at. Names of metrics and params may hold dots, slashes and dashes (`valid_0.l2`,
`val/loss`): the tokens of a field or a bare value written without spaces between them are one.
"""

from __future__ import annotations

import io
import keyword
import tokenize
from dataclasses import dataclass

# What each kind of field is called, its aliases included (MLflow's plural, the old singular).
KEYED = {"metrics": "metric", "metric": "metric", "params": "param", "param": "param",
         "tags": "tag", "tag": "tag", "best": "best"}
# A run's own fields; `attributes.X` (MLflow's name) reads the same ones.
RUN_FIELDS = ("id", "name", "status", "experiment", "source", "parent", "started", "ended", "duration",
              "host", "error")
RUN_FIELD_ALIASES = {"run_id": "id", "run_name": "name", "start_time": "started", "start": "started",
                     "end_time": "ended", "end": "ended", "parent_id": "parent", "run": "id"}
COMPARISONS = ("=", "==", "!=", "<>", "<", "<=", ">", ">=", "~")
CONSTANTS = {"true": True, "false": False, "null": None, "none": None}
# Token texts that may join a name or a bare value when nothing separates them.
_JOINING = (".", "/", "-", ":", "@", "+")
_ENDS = (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT)


class QueryError(ValueError):
    """A query that cannot be read: the message names the token and its column (from 1)."""

    def __init__(self, message: str, column: int | None = None):
        self.column = column
        super().__init__(message if column is None else f"{message} (column {column})")


@dataclass(frozen=True)
class Field:
    kind: str  # "run", "metric" (the latest value), "best" (the best by its goal), "param", "tag"
    key: str  # the run field, or the metric's, param's or tag's name
    column: int

    def __str__(self) -> str:
        return self.key if self.kind == "run" else f"{self.kind}s.{self.key}" if self.kind != "best" \
            else f"best.{self.key}"


@dataclass(frozen=True)
class Value:
    value: object  # str, float, int, bool or None
    quoted: bool  # written in quotes: a string even when it reads as a number
    column: int


@dataclass(frozen=True)
class Compare:
    field: Field
    op: str  # = != < <= > >= like contains in is
    values: tuple[Value, ...]  # one, or the list of `in`; () for `is null`
    negated: bool = False  # not in, not like, is not null


@dataclass(frozen=True)
class Logical:
    op: str  # and, or
    parts: tuple


@dataclass(frozen=True)
class Not:
    part: object


@dataclass(frozen=True)
class _Token:
    kind: int
    text: str
    column: int  # from 1
    end: int  # the column after its last character
    spaced: bool  # whitespace (or the start) before it

    @property
    def word(self) -> str:
        return self.text.lower() if self.kind == tokenize.NAME else ""


def parse(text: str):
    """The tree of a query; None for an empty one."""
    tokens = _tokens(text or "")
    if not tokens:
        return None
    parser = _Parser(tokens)
    tree = parser.expression()
    if not parser.done():
        token = parser.peek()
        raise QueryError(f"unexpected {token.text!r}: join conditions with `and` or `or`", token.column)
    return tree


def _tokens(text: str) -> list[_Token]:
    if "\n" in text or "\r" in text:
        text = " ".join(text.splitlines())
    tokens: list[_Token] = []
    last_end = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in _ENDS or token.type == tokenize.COMMENT:
                if token.type == tokenize.COMMENT:
                    raise QueryError(f"unexpected {token.string[:1]!r}", token.start[1] + 1)
                continue
            if token.type == tokenize.ERRORTOKEN:
                if token.string.isspace():
                    continue
                if token.string[:1] in "'\"":
                    raise QueryError(f"a string opened with {token.string[:1]} is not closed", token.start[1] + 1)
                raise QueryError(f"unexpected {token.string!r}", token.start[1] + 1)
            start, end = token.start[1], token.end[1]
            tokens.append(_Token(token.type, token.string, start + 1, end + 1, start > last_end or not tokens))
            last_end = end
    except tokenize.TokenError as exc:  # an unclosed bracket or a string left open at the end
        if "string" in str(exc.args[0]):
            raise QueryError("a string is not closed", last_end + 1) from None
        unclosed, unopened = _unmatched_brackets(tokens)
        if unopened is not None:
            raise QueryError("unexpected ')': no bracket was opened before it", unopened) from None
        raise QueryError("this bracket is not closed", unclosed) from None
    return tokens


def _unmatched_brackets(tokens: list[_Token]) -> tuple[int | None, int | None]:
    """(the column of the last bracket left open, of the first closed without one opened)."""
    opened: list[int] = []
    for token in tokens:
        if token.kind == tokenize.OP and token.text in "([{":
            opened.append(token.column)
        elif token.kind == tokenize.OP and token.text in ")]}":
            if not opened:
                return None, token.column
            opened.pop()
    return (opened[-1] if opened else None), None


class _Parser:
    def __init__(self, tokens: list[_Token]):
        self.tokens = tokens
        self.index = 0

    # -- token access -----------------------------------------------------------------------------
    def done(self) -> bool:
        return self.index >= len(self.tokens)

    def peek(self, ahead: int = 0) -> _Token | None:
        index = self.index + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            last = self.tokens[-1]
            raise QueryError(f"the query ends after {last.text!r}: something is missing", last.end)
        self.index += 1
        return token

    def at_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.word in words

    def at_text(self, *texts: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == tokenize.OP and token.text in texts

    # -- grammar ----------------------------------------------------------------------------------
    def expression(self):
        parts = [self.conjunction()]
        while self.at_word("or"):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Logical("or", tuple(parts))

    def conjunction(self):
        parts = [self.negation()]
        while True:
            if self.at_word("and"):
                self.take()
            elif self.done() or self.at_word("or") or self.at_text(")"):
                break
            # Conditions side by side are joined by `and` (the dashboard's first filter box read so).
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else Logical("and", tuple(parts))

    def negation(self):
        if self.at_word("not"):
            self.take()
            return Not(self.negation())
        if self.at_text("("):
            opening = self.take()
            inner = self.expression()
            if not self.at_text(")"):
                token = self.peek()
                raise QueryError("the bracket opened here is not closed" if token is None else
                                 f"expected ')' before {token.text!r}",
                                 opening.column if token is None else token.column)
            self.take()
            return inner
        return self.comparison()

    def comparison(self) -> Compare:
        field = self.field()
        token = self.peek()
        if token is None:
            raise QueryError(f"{field} needs an operator and a value, as in {field} = VALUE", field.column)
        if token.kind == tokenize.OP and token.text in COMPARISONS:
            self.take()
            op = {"==": "=", "~": "contains"}.get(token.text, token.text)
            following = self.peek()
            if op == "<" and following is not None and following.text == ">" and not following.spaced:
                self.take()  # SQL's <> (Python's tokenizer reads it as < and >)
                op = "!="
            return Compare(field, op, (self.value(token),))
        negated = False
        if token.word == "not":
            self.take()
            negated = True
            token = self.peek()
            if token is None or token.word not in ("in", "like", "ilike", "contains"):
                raise QueryError("expected `in`, `like` or `contains` after `not`",
                                 (token or self.tokens[-1]).column)
        if token.word in ("like", "ilike", "contains"):
            self.take()
            return Compare(field, "contains" if token.word == "contains" else "like", (self.value(token),), negated)
        if token.word == "in":
            self.take()
            return Compare(field, "in", self.value_list(token), negated)
        if token.word == "is" and not negated:
            self.take()
            if self.at_word("not"):
                self.take()
                negated = True
            null = self.take()
            if null.word not in ("null", "none"):
                raise QueryError(f"expected `null` after `is`, not {null.text!r}", null.column)
            return Compare(field, "is", (), negated)
        raise QueryError(f"expected an operator (= != < <= > >= like in contains) after {field}, "
                         f"not {token.text!r}", token.column)

    def field(self) -> Field:
        token = self.peek()
        if token is None:
            raise QueryError("a condition is missing", self.tokens[-1].end)
        if token.kind != tokenize.NAME or (keyword.iskeyword(token.text) and token.word in ("and", "or", "not", "in", "is")):
            raise QueryError(f"expected a field (metrics.NAME, params.NAME, tags.NAME, status, name, "
                             f"started...), not {token.text!r}", token.column)
        head = self.take()
        prefix = head.text.lower()
        if prefix in KEYED or prefix in ("attributes", "attribute", "attr"):
            if not self.at_text(".") or self.peek().spaced:
                kind = KEYED.get(prefix, "run")
                raise QueryError(f"name the {kind if kind != 'run' else 'attribute'}, as in "
                                 f"{head.text}.NAME", head.end)
            self.take()
            key_token = self.peek()
            if key_token is None or key_token.spaced or key_token.kind == tokenize.OP and key_token.text not in _JOINING:
                raise QueryError(f"name the {KEYED.get(prefix, 'attribute')} after {head.text}.",
                                 (key_token.column if key_token else head.end + 1))
            if key_token.kind == tokenize.STRING:  # metrics."val loss": any name, quoted
                self.take()
                key = _string(key_token)
            else:
                key = self.joined()
            if prefix in KEYED:
                return Field(KEYED[prefix], key, head.column)
            return self.run_field(key, head.column)
        if self.at_text(".") and not self.peek().spaced:
            raise QueryError(f"unknown field {self.joined_from(head)!r}: fields are {fields_help()}", head.column)
        return self.run_field(head.text, head.column)

    def run_field(self, name: str, column: int) -> Field:
        key = RUN_FIELD_ALIASES.get(name.lower(), name.lower())
        if key not in RUN_FIELDS:
            raise QueryError(f"unknown field {name!r}: fields are {fields_help()}", column)
        return Field("run", key, column)

    def joined(self) -> str:
        """Tokens written together (no space between them) as one name: `valid_0.l2`, `val/loss`."""
        return self.joined_from(self.take())

    def joined_from(self, first: _Token) -> str:
        text = first.text
        while True:
            token = self.peek()
            if token is None or token.spaced:
                return text
            if token.kind in (tokenize.NAME, tokenize.NUMBER) or (token.kind == tokenize.OP and token.text in _JOINING):
                text += self.take().text
            else:
                return text

    def value(self, after: _Token) -> Value:
        token = self.peek()
        if token is None or (token.kind == tokenize.OP and token.text not in ("-", "+")) or \
                token.word in ("and", "or"):
            raise QueryError(f"expected a value after {after.text!r}" +
                             (f", not {token.text!r}" if token is not None else ""),
                             token.column if token is not None else after.end)
        if token.kind == tokenize.STRING:
            self.take()
            return Value(_string(token), True, token.column)
        text = self.joined()
        if text.lower() in CONSTANTS:
            return Value(CONSTANTS[text.lower()], False, token.column)
        return Value(_number_or_text(text), False, token.column)

    def value_list(self, after: _Token) -> tuple[Value, ...]:
        if not self.at_text("("):
            token = self.peek()
            raise QueryError("expected a list after `in`, as in (3, 5)",
                             token.column if token is not None else after.end)
        self.take()
        values = [self.value(after)]
        while self.at_text(","):
            separator = self.take()
            if self.at_text(")"):  # a trailing comma, as Python allows
                break
            values.append(self.value(separator))
        if not self.at_text(")"):
            token = self.peek()
            raise QueryError("expected ',' or ')' in the list" + (f", not {token.text!r}" if token else ""),
                             token.column if token is not None else self.tokens[-1].end)
        self.take()
        return tuple(values)


def _string(token: _Token) -> str:
    import ast

    try:
        value = ast.literal_eval(token.text)
    except (ValueError, SyntaxError):
        raise QueryError(f"cannot read the string {token.text}", token.column) from None
    if not isinstance(value, str):  # b'...'
        raise QueryError(f"{token.text} is not a string", token.column)
    return value


def _number_or_text(text: str):
    try:
        number = float(text)
    except ValueError:
        return text
    if number.is_integer() and text.lstrip("+-").isdigit():
        return int(text)
    return number


def fields_help() -> str:
    return ("metrics.NAME, best.NAME, params.NAME, tags.NAME, " + ", ".join(RUN_FIELDS))


__all__ = ["parse", "QueryError", "Field", "Value", "Compare", "Logical", "Not", "fields_help"]
