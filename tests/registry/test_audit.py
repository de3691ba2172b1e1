"""`autotrack audit`: a registered model's, a run's or a saved model file's card, from a real
training script; and the report's model card."""

from __future__ import annotations

import pytest
from scripting import printed

pytest.importorskip("sklearn")

TRAIN = """
import json
import joblib
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

rng = np.random.RandomState(0)
frame = pd.DataFrame(rng.rand(300, 3), columns=["tenure", "spend", "visits"])
frame.to_csv("customers.csv", index=False)
frame = pd.read_csv("customers.csv")
y = (frame["tenure"] + 0.2 * rng.rand(300) > 0.6).astype(int)
Xt, Xv, yt, yv = train_test_split(frame, y, random_state=0)
for C in (1.0, 0.01, 0.001):
    model = LogisticRegression(C=C).fit(Xt, yt)
    model.score(Xv, yv)
    if C == 1.0:
        joblib.dump(model, "churn-model.joblib")  # the user's own copy, saved their way
print(json.dumps("ok"))
"""


@pytest.fixture
def trained(run_script, cli):
    printed(run_script(TRAIN))
    runs = {run["name"]: run["id"] for run in cli("runs", "--json")}
    best = runs["LogisticRegression"]
    cli("models", "register", best, "churn", "--alias", "champion")
    worse = next(run_id for name, run_id in runs.items() if "C=0.01" in name)
    cli("models", "register", worse, "churn")
    cli("models", "alias", "churn", "2", "champion", "--force")
    cli("models", "alias", "churn", "1", "champion")
    return {"best": best, "runs": runs}


def test_audit_of_a_registered_model(trained, cli, tmp_path):
    card = cli("audit", "churn/1", "--json")
    run = cli("show", trained["best"], "--json")
    assert card["model"]["run_id"] == trained["best"] and card["model"]["found_by"] == "registered as churn/1"
    assert card["trained"]["user"] == run["context"]["user"] and card["trained"]["host"] == run["context"]["host"]
    assert card["trained"]["argv"] == [str(tmp_path / "train.py")] and card["trained"]["cwd"] == str(tmp_path)
    assert {d["role"]: d["fingerprint"] for d in card["data"]} == {d["role"]: d["fingerprint"] for d in run["datasets"]}
    assert card["data"][0]["schema"] == "tenure:float64, spend:float64, visits:float64"
    assert [f["path"] for f in card["data_files"]] == [str(tmp_path / "customers.csv")]
    assert card["code"]["snapshot"] == ["train.py"] and card["code"]["commit"] is None
    assert card["params"] == run["params"] and card["packages"]["scikit-learn"]
    assert card["metrics"]["Xv.score"]["goal"] == "max"
    assert card["compared_with"] == {"scope": "experiment 'train'", "runs": 3, "metric": "Xv.score", "goal": "max",
                                     "rank": 1, "ranked": 3}
    (entry,) = card["registry"]
    assert entry["version"] == "churn/1" and entry["aliases"] == ["champion"]
    actions = [(e["action"], e["alias"]) for e in entry["events"]]
    assert actions == [("registered", None), ("aliased", "champion"), ("aliased", "champion")]
    assert entry["events"][2]["detail"]["replaced"] == 2 and entry["events"][2]["detail"]["metric"] == "Xv.score"
    forced = cli("audit", "churn/2", "--json")["registry"][0]["events"][1]["detail"]
    assert forced["forced"] is True and forced["value"] < forced["replaced_value"]
    assert card["serving"] is None
    assert card["capture"]["integrations"]["sklearn"]["state"] == "tracked"
    text = cli("audit", "churn@champion").stdout
    assert "ranked 1 of 3 by Xv.score" in text and "churn/1 [champion]" in text and "customers.csv" in text


def test_audit_of_model_files(trained, cli, tmp_path, store):
    found = cli("audit", str(tmp_path / "churn-model.joblib"), "--json")["model"]
    assert found["run_id"] == trained["best"] and "fingerprint" in found["found_by"]
    copy = tmp_path / "downloaded.pkl"
    copy.write_bytes(next((store / "artifacts" / trained["best"]).glob("model.pkl")).read_bytes())
    found = cli("audit", str(copy), "--json")["model"]
    assert found["run_id"] == trained["best"] and "copy" in found["found_by"]
    stranger = tmp_path / "other.pkl"
    stranger.write_bytes(b"not a model")
    refused = cli("audit", str(stranger), check=False)
    assert refused.returncode == 1 and "no run in" in refused.stderr and refused.stderr.count("\n") == 1


def test_the_report_has_a_model_card(trained, cli, tmp_path):
    cli("report", trained["best"], "--format", "md", "-o", str(tmp_path / "card.md"))
    text = (tmp_path / "card.md").read_text()
    card = text[text.index("## Model card"):]
    assert "ranked 1 of 3 by Xv.score" in card and "| churn/1 | champion |" in card
    assert "customers.csv" in card and "tracked by" in card
