"""Bad input to `autotrack report`: one line on stderr, exit status 1, no file written."""

from __future__ import annotations


def fails(result, *expected: str) -> str:
    assert result.returncode == 1
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in message, message
    for text in expected:
        assert text in message, message
    return message


def test_unknown_run_id(cli, trained, tmp_path):
    fails(cli("report", "0123abcd", check=False, env=trained.env()), "no run '0123abcd'")
    assert not (tmp_path / "report.html").exists()


def test_nothing_asked(cli, trained):
    fails(cli("report", check=False, env=trained.env()), "nothing to report", "--experiment")


def test_missing_store(cli, tmp_path):
    fails(cli("report", "abc", check=False, env={"AUTOTRACK_DIR": str(tmp_path / "nowhere")}),
          "no autotrack store")


def test_unknown_experiment_and_metric(cli, trained):
    fails(cli("report", "--experiment", "nope", check=False, env=trained.env()),
          "no experiment 'nope'", "lgb_train")
    fails(cli("report", "--experiment", "lgb_train", "--best", "valid.f1", check=False, env=trained.env()),
          "valid.f1", "valid.auc")


def test_missing_directory_for_output(cli, trained, tmp_path):
    fails(cli("report", trained.sklearn_id, "-o", str(tmp_path / "no" / "r.html"), check=False,
              env=trained.env()), "no such directory")


def test_without_matplotlib(cli, trained, tmp_path):
    # A matplotlib that cannot be imported, first on the path: as if autotrack[report] were not installed.
    blocked = tmp_path / "blocked" / "matplotlib"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text("raise ImportError('No module named matplotlib', name='matplotlib')\n")
    result = cli("report", trained.sklearn_id, check=False,
                 env={**trained.env(), "PYTHONPATH": str(blocked.parent)})
    fails(result, "pip install 'autotrack[report]'", "matplotlib")
    assert not (tmp_path / "report.html").exists()
