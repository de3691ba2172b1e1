"""Redaction helpers that keep credentials out of the run store (names, URLs, argv, mappings)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

MASK = "***"

# --- secret-looking names ---------------------------------------------------
#
# Names are split into lowercase word parts ("AWS_SECRET_ACCESS_KEY" -> aws, secret,
# access, key; "apiKey" -> api, key) and judged part by part, so "author" or
# "tokenizer" never match merely because they contain "auth" or "token".
# When in doubt we mask: a masked hyperparameter is a nuisance, a leaked key is not.

# A part equal to one of these marks the whole name as secret.
_SECRET_PARTS = frozenset(
    {
        "password", "passwords", "passwd", "pwd", "pwds", "passphrase",
        "secret", "secrets", "token", "credential", "credentials", "creds",
        "auth", "authn", "authz", "authorization", "authorisation", "oauth",
        "apikey", "accesskey", "secretkey", "privatekey", "sessionkey",
        "cookie", "cookies", "jwt", "bearer",
    }
)

# Substrings strong enough to flag a part on their own ("dbpassword", "mysecret").
_SECRET_SUBSTRINGS = ("passw", "secret", "credential", "apikey", "privatekey", "accesskey", "passphrase")

# "key" alone is too common (sort key, cache key) but these qualifiers make it a credential.
_KEY_QUALIFIERS = frozenset(
    {
        "api", "access", "private", "secret", "session", "signing", "encryption",
        "master", "ssh", "license", "licence", "account", "client", "auth", "app",
        "service", "storage", "sas", "deploy",
    }
)

# "token" is a credential, except in NLP/LLM settings where it is a unit of text:
# max_token, pad_token, eos_token_id, token_count, ... are not secrets.
_TOKEN_UNIT_BEFORE = frozenset(
    {"max", "min", "num", "n", "total", "per", "pad", "eos", "bos", "unk", "sep", "cls", "mask", "special"}
)
_TOKEN_UNIT_AFTER = frozenset(
    {"count", "counts", "len", "length", "limit", "budget", "size", "id", "ids", "index", "idx", "type", "types"}
)
# Plural "tokens" is nearly always a count (n_tokens, max_tokens); only these
# qualifiers turn it back into a collection of credentials (api_tokens, access_tokens).
_TOKENS_CREDENTIAL_BEFORE = frozenset({"api", "access", "auth", "refresh", "bearer", "session", "oauth", "id"})

# Shell-maintained working-directory variables whose parts include "pwd" but hold a path.
_NON_SECRET_EXACT_NAMES = frozenset({"PWD", "OLDPWD"})


def _name_parts(name: str) -> list[str]:
    """Split a name into lowercase alphabetic word parts, honouring camelCase and digits."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)  # apiKey -> api Key
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)  # APIKey -> API Key
    return re.findall(r"[a-z]+", spaced.lower())


def _token_part_is_secret(parts: list[str], index: int) -> bool:
    """Decide whether the "token"/"tokens" part at parts[index] denotes a credential."""
    before = parts[index - 1] if index > 0 else ""
    after = parts[index + 1] if index + 1 < len(parts) else ""
    if parts[index] == "tokens":
        return before in _TOKENS_CREDENTIAL_BEFORE
    return before not in _TOKEN_UNIT_BEFORE and after not in _TOKEN_UNIT_AFTER


def _part_is_secret(parts: list[str], index: int) -> bool:
    """Decide whether one word part (seen with its neighbours) marks the name as secret."""
    part = parts[index]
    if part in ("token", "tokens"):
        return _token_part_is_secret(parts, index)
    if part == "key":
        return index > 0 and parts[index - 1] in _KEY_QUALIFIERS
    if part in _SECRET_PARTS or any(s in part for s in _SECRET_SUBSTRINGS):
        return True
    # Glued forms such as "authtoken", "hftoken", "basicauth", "authkey"; "author*" is not auth.
    if part.endswith("token") or part.endswith("auth"):
        return True
    return part.startswith("auth") and not part.startswith("author")


@functools.lru_cache(maxsize=8192)
def is_secret_name(name: str) -> bool:
    """Return True when a variable/flag/key name looks like it holds a credential.

    Cached: the same parameter names come back with every fit, and this runs inside fit.
    """
    if not name or name in _NON_SECRET_EXACT_NAMES:
        return False
    parts = _name_parts(name)
    return any(_part_is_secret(parts, i) for i in range(len(parts)))


# --- URLs ------------------------------------------------------------------

# scheme://user:password@host -- the password may contain "@" or ":" when not
# percent-encoded, so it runs greedily up to the last "@" before the path.
_USER_PASSWORD_RE = re.compile(
    r"(?P<prefix>\b[A-Za-z][A-Za-z0-9+.\-]*://[^:/?#@\s]*):(?P<password>[^/?#\s]*)@"
)
# scheme://TOKEN@host -- git remotes often carry a bare token as the user name.
_USER_ONLY_RE = re.compile(r"(?P<prefix>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:/?#@\s]+)@")
# ?name=value / &name=value / #name=value (OAuth fragments) / ;Name=value (connection strings).
_PARAM_RE = re.compile(r"(?P<lead>[?&#;])(?P<name>[^=&#?;\s]+)=(?P<value>[^&#;\s\"'<>]*)")

# Prefixes of well-known token formats (GitHub, GitLab, Hugging Face, Slack, OpenAI-style).
_TOKEN_PREFIXES = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "hf_", "xox", "sk-")
# Real user names are short; a 20+ character user part is far more likely a token.
_TOKEN_MIN_LENGTH = 20


def _looks_like_token(user: str) -> bool:
    """Guess whether a URL user part without a password is really an access token."""
    return len(user) >= _TOKEN_MIN_LENGTH or user.lower().startswith(_TOKEN_PREFIXES)


def _mask_user_only(match: re.Match) -> str:
    user = match.group("user")
    return match.group("prefix") + (MASK if _looks_like_token(user) else user) + "@"


# Query parameters that carry a credential in a URL although their names say little: signed URLs
# (Azure SAS `sig`, S3 and GCS presigned `X-Amz-Signature`, `X-Goog-Credential`), API keys
# (`?key=` of Google APIs), OAuth codes.
_SECRET_QUERY_PARAMS = frozenset({
    "sig", "signature", "key", "code", "sas", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
    "x-goog-signature", "x-goog-credential", "sharedaccesssignature",
})


def _mask_secret_param(match: re.Match) -> str:
    name = match.group("name")
    if not (is_secret_name(name) or name.lower() in _SECRET_QUERY_PARAMS):
        return match.group(0)
    return f"{match.group('lead')}{name}={MASK}"


def redact_url(text: str) -> str:
    """Mask URL passwords (keeping the user), token-like user parts and secret query params anywhere in text."""
    text = _USER_PASSWORD_RE.sub(lambda m: f"{m.group('prefix')}:{MASK}@", text)
    text = _USER_ONLY_RE.sub(_mask_user_only, text)
    return _PARAM_RE.sub(_mask_secret_param, text)


# --- free text ---------------------------------------------------------------
#
# Run names, tags, error messages, log lines and diffs are free text: a credential there is a URL's
# (above), an assignment to a secret-looking name (`password=x`, `"api_key": "x"`, `TOKEN: x`), a
# bearer header, or a token whose format is known.

_TEXT_ASSIGNMENT_RE = re.compile(
    r"""(?P<name>[A-Za-z_][\w.\-]*)(?P<quote>["']?)(?P<sep>\s*[:=]\s*)"""
    r"""(?P<value>"[^"\n]*"|'[^'\n]*'|[^\s,;&"'<>)\]}]+)""")
_KNOWN_TOKEN_RE = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|glpat-[\w\-]{20,}|hf_[A-Za-z0-9]{20,}"
    r"|xox[abprs]-[\w\-]{10,}|sk-[\w\-]{20,}|(?:AKIA|ASIA)[0-9A-Z]{16}|AIza[\w\-]{35})\b")
_BEARER_RE = re.compile(r"\b(?P<kind>Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=\-]{8,}", re.IGNORECASE)
_PRIVATE_KEY_RE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
                             re.DOTALL)


def _mask_assignment(match: re.Match) -> str:
    value = match.group("value")
    if not is_secret_name(match.group("name")):  # the value may hold one: `name="x password=y"`
        inner = _TEXT_ASSIGNMENT_RE.sub(_mask_assignment, value) if len(value) > 2 else value
        return f"{match.group('name')}{match.group('quote')}{match.group('sep')}{inner}"
    masked = value[0] + MASK + value[0] if value[:1] in ("'", '"') else MASK
    return f"{match.group('name')}{match.group('quote')}{match.group('sep')}{masked}"


def redact_text(text: str) -> str:
    """Mask credentials anywhere in free text (see above); text without any comes back as it was."""
    if not text:
        return text
    text = redact_url(text)
    text = _BEARER_RE.sub(lambda m: f"{m.group('kind')} {MASK}", text)
    text = _KNOWN_TOKEN_RE.sub(MASK, text)
    text = _TEXT_ASSIGNMENT_RE.sub(_mask_assignment, text)
    return _PRIVATE_KEY_RE.sub(f"-----{MASK} PRIVATE KEY-----", text)


# --- values and mappings ---------------------------------------------------


def _redact_nested(value: Any) -> Any:
    """Redact strings (free text) and walk into dicts, lists and tuples; leave other values alone."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return redact_mapping(value)
    if isinstance(value, (list, tuple)):
        items = [_redact_nested(item) for item in value]
        # Keep the caller's object (and exact type, e.g. namedtuple) when nothing changed.
        if all(new is old for new, old in zip(items, value)):
            return value
        return items if isinstance(value, list) else tuple(items)
    return value


def redact_value(name: str, value: Any) -> Any:
    """Return MASK for secret-named values, otherwise the value with embedded URL credentials masked."""
    if is_secret_name(str(name)):
        return MASK
    return _redact_nested(value)


def redact_mapping(d: Mapping) -> dict:
    """Return a new dict with redact_value applied to every item, recursing into nested dicts."""
    return {key: redact_value(str(key), value) for key, value in d.items()}


# --- command lines -----------------------------------------------------------

# NAME=value assignments (env style, Hydra overrides such as db.password=x or +api_key=x).
_ASSIGNMENT_RE = re.compile(r"^(?P<name>[+~]*[A-Za-z_][\w.\-]*)=(?P<value>.*)$", re.DOTALL)


def _redact_flag(arg: str) -> tuple[str, bool]:
    """Redact one "-x"/"--name[=value]" argument; also say whether the next argument is its secret value."""
    name = arg.lstrip("-")
    dashes = arg[: len(arg) - len(name)]
    if "=" in name:
        name, _, value = name.partition("=")
        if is_secret_name(name):
            return f"{dashes}{name}={MASK}", False
        return redact_url(arg), False
    return arg, is_secret_name(name)


def _redact_plain(arg: str) -> str:
    """Redact a non-flag argument: NAME=value assignments and URLs with credentials."""
    match = _ASSIGNMENT_RE.match(arg)
    if match and is_secret_name(match.group("name")):
        return f"{match.group('name')}={MASK}"
    return redact_url(arg)


def redact_argv(argv: list[str]) -> list[str]:
    """Return a copy of argv with secret flag values, secret assignments and URL credentials masked."""
    redacted: list[str] = []
    mask_next = False
    for arg in argv:
        # "--token X": X is the secret -- unless it is itself another long flag
        # (then the secret flag was a boolean switch such as --use-auth).
        if mask_next and not arg.startswith("--"):
            redacted.append(MASK)
            mask_next = False
            continue
        if arg.startswith("-") and len(arg) > 1:
            arg, mask_next = _redact_flag(arg)
            redacted.append(arg)
        else:
            mask_next = False
            redacted.append(_redact_plain(arg))
    return redacted
