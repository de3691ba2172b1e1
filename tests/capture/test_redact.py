"""Tests for autotrack.capture.redact."""

import pytest

from autotrack.capture.redact import (
    MASK,
    is_secret_name,
    redact_argv,
    redact_mapping,
    redact_url,
    redact_value,
)

SECRET_NAMES = [
    "password", "PASSWORD", "db_password", "dbPassword", "passwd", "pwd", "DB_PWD",
    "secret", "client_secret", "token", "access_token", "refresh_token", "id_token",
    "api_key", "apikey", "api-key", "apiKey", "X-Api-Key", "access_key", "private_key",
    "secret_key", "credential", "credentials", "auth", "Authorization", "auth_token",
    "session_key", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "MLFLOW_TRACKING_TOKEN",
    "GITHUB_TOKEN", "HF_TOKEN", "WANDB_API_KEY", "authtoken", "api_tokens", "passphrase",
]

NON_SECRET_NAMES = [
    "n_tokens", "max_tokens", "max_new_tokens", "num_tokens", "tokens", "tokenizer",
    "tokenizer_name", "pad_token", "eos_token_id", "token_count", "author", "authors",
    "learning_rate", "batch_size", "key", "sort_key", "primary_key", "PWD", "OLDPWD",
    "path", "", "monkey", "keyboard",
]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", NON_SECRET_NAMES)
def test_non_secret_names(name):
    assert not is_secret_name(name)


def test_mask_constant():
    assert MASK == "***"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgres://alice:hunter2@db:5432/x", "postgres://alice:***@db:5432/x"),
        ("redis://:pw@cache:6379/0", "redis://:***@cache:6379/0"),
        # unencoded "@" in the password must not leak its tail
        ("mysql://u:p@ss@host/db", "mysql://u:***@host/db"),
        ("connect to https://bob:s3cret@example.com/a and ftp://c:d@e/f done",
         "connect to https://bob:***@example.com/a and ftp://c:***@e/f done"),
        ("https://example.com/a?token=abc&page=2", "https://example.com/a?token=***&page=2"),
        ("https://h/x?page=2&api_key=k#frag", "https://h/x?page=2&api_key=***#frag"),
        ("https://h/cb#access_token=zz&state=1", "https://h/cb#access_token=***&state=1"),
        ("https://h/x?max_tokens=10", "https://h/x?max_tokens=10"),
        ("https://ghp_abcdefghijklmnopqrstuvwxyz0123@github.com/o/r.git",
         "https://***@github.com/o/r.git"),
        ("ssh://git@github.com/o/r.git", "ssh://git@github.com/o/r.git"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ("https://example.com:8443/path", "https://example.com:8443/path"),
        ("no url here", "no url here"),
    ],
)
def test_redact_url(text, expected):
    assert redact_url(text) == expected


def test_redact_value():
    assert redact_value("api_key", "abc") == MASK
    assert redact_value("token", 12345) == MASK
    assert redact_value("password", None) == MASK
    assert redact_value("db_url", "postgres://u:p@h/d") == "postgres://u:***@h/d"
    assert redact_value("lr", 0.1) == 0.1
    assert redact_value("max_tokens", 256) == 256


def test_redact_mapping_is_recursive_and_copies():
    config = {
        "lr": 0.1,
        "api_key": "abc",
        "db": {"url": "postgres://u:p@h/d", "password": "x", "port": 5432},
        "urls": ["https://u:p@h", "plain"],
        "credentials": {"user": "a", "pass": "b"},
    }
    redacted = redact_mapping(config)
    assert redacted == {
        "lr": 0.1,
        "api_key": MASK,
        "db": {"url": "postgres://u:***@h/d", "password": MASK, "port": 5432},
        "urls": ["https://u:***@h", "plain"],
        "credentials": MASK,
    }
    assert config["api_key"] == "abc"  # input untouched
    assert redacted is not config


def test_redact_argv():
    argv = [
        "train.py", "--password=hunter2", "--api-key", "k123", "--lr", "0.1",
        "PASSWORD=x", "db.password=y", "+api_key=z", "--db", "mysql://u:p@h/db",
        "--max-tokens", "256", "--tokenizer", "bpe", "--use-auth", "--epochs", "3",
        "--url=https://x/?token=t", "--token",
    ]
    assert redact_argv(argv) == [
        "train.py", "--password=***", "--api-key", "***", "--lr", "0.1",
        "PASSWORD=***", "db.password=***", "+api_key=***", "--db", "mysql://u:***@h/db",
        "--max-tokens", "256", "--tokenizer", "bpe", "--use-auth", "--epochs", "3",
        "--url=https://x/?token=***", "--token",
    ]
    assert argv[1] == "--password=hunter2"  # input untouched


def test_redact_argv_plain_arguments_unchanged():
    argv = ["-m", "pkg", "-v", "-1", "-", "--", "data.csv", "lr=0.1"]
    assert redact_argv(argv) == argv
