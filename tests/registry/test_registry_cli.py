"""`autotrack models` and `autotrack.load_model` on scikit-learn runs: register, alias (with the
metric check), list, load back; bad input as one-line messages."""

from __future__ import annotations

import pytest
from scripting import printed

pytest.importorskip("sklearn")

# Two models scored on held-out data: the first (C=1) is the better one by Xv.score.
TRAIN = """
import json
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

rng = np.random.RandomState(0)
X = rng.rand(400, 4)
y = (X[:, 0] + 0.3 * rng.rand(400) > 0.6).astype(int)
Xt, Xv, yt, yv = train_test_split(X, y, random_state=0)
probe = rng.rand(20, 4)
out = {}
for C in (1.0, 0.001):
    model = LogisticRegression(C=C).fit(Xt, yt)
    model.score(Xv, yv)
    out[str(C)] = model.predict_proba(probe)[:, 1].tolist()
np.save("probe.npy", probe)
print(json.dumps(out))
"""

LOAD = """
import json, sys
import numpy as np
import autotrack

probe = np.load("probe.npy")
out = {}
for ref in sys.argv[1:]:
    model = autotrack.load_model(ref)
    out[ref] = [type(model).__name__, model.predict_proba(probe)[:, 1].tolist()]
print(json.dumps(out))
"""


@pytest.fixture
def two_runs(run_script, cli):
    trained = printed(run_script(TRAIN))
    runs = {run["name"]: run["id"] for run in cli("runs", "--json")}
    better = runs["LogisticRegression"]
    worse = next(run_id for name, run_id in runs.items() if name != "LogisticRegression")
    return {"better": better, "worse": worse, "predictions": trained}


def test_register_alias_list_and_load_back(two_runs, run_script, cli):
    first = cli("models", "register", two_runs["better"][:8], "churn", "--alias", "champion", "--json")
    assert (first["name"], first["version"], first["artifact"]) == ("churn", 1, "model.pkl")
    second = cli("models", "register", two_runs["worse"], "churn", "-d", "smaller C", "--json")
    assert second["version"] == 2 and second["description"] == "smaller C"
    cli("models", "alias", "churn", "2", "challenger")

    listing = cli("models", "--json")
    assert [entry["name"] for entry in listing] == ["churn"]
    assert listing[0]["aliases"] == {"champion": 1, "challenger": 2}
    versions = {version["version"]: version for version in listing[0]["versions"]}
    assert versions[1]["run"]["id"] == two_runs["better"] and versions[2]["run"]["id"] == two_runs["worse"]
    assert versions[1]["metrics"]["Xv.score"] > versions[2]["metrics"]["Xv.score"]
    text = cli("models").stdout
    assert "churn  (2 versions)" in text and "champion \u2192 v1" in text and "challenger \u2192 v2" in text

    loaded = printed(run_script(LOAD, name="load.py", tracked=False,
                                args=["churn@champion", "churn/2", "churn", two_runs["better"][:10]]))
    assert loaded["churn@champion"] == ["LogisticRegression", two_runs["predictions"]["1.0"]]
    assert loaded["churn/2"][1] == two_runs["predictions"]["0.001"]
    assert loaded["churn"][1] == two_runs["predictions"]["0.001"]  # the newest version
    assert loaded[two_runs["better"][:10]][1] == two_runs["predictions"]["1.0"]  # a run id


def test_aliasing_a_worse_version_asks_for_force(two_runs, cli):
    cli("models", "register", two_runs["better"], "churn", "--alias", "champion")
    cli("models", "register", two_runs["worse"], "churn")
    refused = cli("models", "alias", "churn", "2", "champion", check=False)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "worse than churn@champion (v1)" in refused.stderr
    assert "Xv.score" in refused.stderr and "--force" in refused.stderr
    assert cli("models", "--json")[0]["aliases"] == {"champion": 1}

    forced = cli("models", "alias", "churn", "2", "champion", "--force")
    assert "churn@champion \u2192 v2 (was v1)" in forced.stdout and "--force" in forced.stderr
    assert cli("models", "--json")[0]["aliases"] == {"champion": 2}
    # Moving it back to the better version needs no force; removing it leaves no alias.
    back = cli("models", "alias", "churn", "1", "champion", "--json")
    assert back["replaced"] == 2 and back["metric"] == "Xv.score"
    cli("models", "unalias", "churn", "champion")
    assert cli("models", "--json")[0]["aliases"] == {}


def test_registering_with_a_worse_alias_registers_but_asks_for_force(two_runs, cli):
    cli("models", "register", two_runs["better"], "churn", "--alias", "champion")
    refused = cli("models", "register", two_runs["worse"], "churn", "--alias", "champion", check=False)
    assert refused.returncode == 1 and "registered churn/2, not aliased" in refused.stderr
    assert "worse than churn@champion (v1)" in refused.stderr
    listing = cli("models", "--json")[0]
    assert listing["aliases"] == {"champion": 1} and len(listing["versions"]) == 2
    cli("models", "register", two_runs["worse"], "churn", "--alias", "champion", "--force")
    assert cli("models", "--json")[0]["aliases"] == {"champion": 2}


def test_registering_a_run_twice_keeps_one_version(two_runs, cli):
    cli("models", "register", two_runs["better"], "churn")
    again = cli("models", "register", two_runs["better"], "churn")
    assert "already churn/1" in again.stdout
    assert len(cli("models", "--json")[0]["versions"]) == 1


def test_bad_input_is_one_line(two_runs, cli, run_script):
    cli("models", "register", two_runs["better"], "churn", "--alias", "champion")
    cases = {
        ("models", "register", "nope", "churn"): "no run 'nope'",
        ("models", "register", two_runs["worse"], "bad name"): "model name 'bad name'",
        ("models", "alias", "churn", "7", "champion"): "has no version 7 (its versions: 1)",
        ("models", "alias", "churn", "1", "latest"): "reserved",
        ("models", "alias", "other", "1", "champion"): "registered: churn",
        ("models", "unalias", "churn", "challenger"): "no alias 'challenger'",
        ("models", "list", "chrun"): "no registered model 'chrun' (registered: churn)",
    }
    for args, message in cases.items():
        result = cli(*args, check=False)
        assert result.returncode == 1 and message in result.stderr, (args, result.stderr)
        assert result.stderr.count("\n") == 1, result.stderr

    failed = run_script(LOAD, name="load.py", tracked=False, check=False,
                        args=["churn@challenger"])
    assert "RegistryError: model 'churn' has no alias 'challenger' (its aliases: champion)" in failed.stderr


def test_a_run_without_a_saved_model_cannot_be_registered(run_script, cli):
    run_script(TRAIN, env={"AUTOTRACK_LOG_MODELS": "0"})
    run_id = cli("runs", "--json")[0]["id"]
    result = cli("models", "register", run_id, "churn", check=False)
    assert result.returncode == 1 and "has no saved model" in result.stderr and "log_models" in result.stderr


def test_models_on_a_missing_store_and_an_empty_registry(cli, run_script, store):
    missing = cli("models", check=False)
    assert missing.returncode == 1 and f"no autotrack store at {store}" in missing.stderr
    run_script(TRAIN)
    assert "no registered models" in cli("models").stdout
    assert cli("models", "--json") == []


def test_registry_reads_are_read_only(two_runs, cli, store):
    cli("models", "register", two_runs["better"], "churn", "--alias", "champion")
    files = [store / "runs.db", store / "runs.db-wal"]  # the -shm index records readers' marks
    before = [path.read_bytes() if path.exists() else None for path in files]
    cli("models")
    cli("models", "--json")
    after = [path.read_bytes() if path.exists() else None for path in files]
    assert before == after
