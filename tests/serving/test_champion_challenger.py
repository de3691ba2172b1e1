"""Champion vs challenger on the same traffic: a serving script loads `churn@champion` and runs
`churn@challenger` in shadow (by the API and by the setting); `autotrack compare ... --serving`
shows each one's traffic, latency, predictions and realised metrics, and how often they agree."""

from __future__ import annotations

import json

import pytest
from scripting import printed

pytest.importorskip("sklearn")
pytest.importorskip("datasketches")

TRAIN = """
import numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
rng = np.random.RandomState(0)
X = pd.DataFrame(rng.rand(500, 3), columns=["a", "b", "c"])
y = (X.a + 0.3 * rng.rand(500) > 0.6).astype(int)
LogisticRegression().fit(X, y)
DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
"""

# The serving script, as a service would be: the champion answers, the challenger only watches.
SERVE = """
import json, sys
import numpy as np, pandas as pd
import autotrack
champion = autotrack.load_model("churn@champion")
if sys.argv[1] == "api":
    autotrack.shadow("churn@challenger")
rng = np.random.RandomState(1)
answered = []
for batch in range(20):
    X = pd.DataFrame(rng.rand(50, 3), columns=["a", "b", "c"],
                     index=pd.Index(range(batch * 50, batch * 50 + 50), name="customer_id"))
    answered += champion.predict(X).tolist()
    X["a"] = -1.0  # the caller reuses its frame: the shadow must see what the champion saw
    autotrack.log_labels(X.index, (rng.rand(50) > 0.5).astype(int))
np.save("served.npy", np.asarray(answered))
print(json.dumps(len(answered)))
"""

# Untracked: what each model predicts on the same rows, to know the true agreement.
EXPECTED = """
import json
import numpy as np, pandas as pd
import autotrack
rng = np.random.RandomState(1)
models = [autotrack.load_model("churn@champion"), autotrack.load_model("churn@challenger")]
same = total = 0
for batch in range(20):
    X = pd.DataFrame(rng.rand(50, 3), columns=["a", "b", "c"])
    rng.rand(50)
    a, b = (model.predict(X) for model in models)
    same += int((a == b).sum()); total += len(a)
print(json.dumps({"rate": same / total}))
"""


@pytest.fixture
def registered(run_script, cli):
    run_script(TRAIN)
    runs = {run["name"]: run["id"] for run in cli("runs", "--json")}
    cli("models", "register", runs["LogisticRegression"], "churn", "--alias", "champion")
    tree = next(run_id for name, run_id in runs.items() if name.startswith("DecisionTreeClassifier"))
    cli("models", "register", tree, "churn", "--alias", "challenger")
    return runs


@pytest.mark.parametrize("how", ["api", "setting"])
def test_a_challenger_in_shadow_is_recorded_and_compared_never_returned(how, registered, run_script, cli, tmp_path):
    env = {"AUTOTRACK_SERVING_ID_COLUMN": "customer_id"}
    if how == "setting":
        env["AUTOTRACK_SHADOW"] = "churn@challenger"
    served = printed(run_script(SERVE, name="serve.py", env=env, args=[how]))
    expected = printed(run_script(EXPECTED, name="expected.py", tracked=False))
    # What the caller got is the champion's answer, call by call.
    answered = __import__("numpy").load(tmp_path / "served.npy").tolist()
    champion_alone = printed(run_script(
        "import json, numpy as np, pandas as pd, autotrack\n"
        "m = autotrack.load_model('churn@champion'); rng = np.random.RandomState(1); out = []\n"
        "for b in range(20):\n"
        "    out += m.predict(pd.DataFrame(rng.rand(50, 3), columns=['a', 'b', 'c'])).tolist(); rng.rand(50)\n"
        "print(json.dumps(out))\n", name="alone.py", tracked=False))
    assert served == 1000 and answered == champion_alone

    result = cli("compare", "churn@champion", "churn@challenger", "--serving", "--json")
    champion, challenger = result["models"]
    assert (champion["version"], champion["mode"], champion["calls"], champion["rows"]) == ("churn/1", "live", 20, 1000)
    assert (challenger["version"], challenger["mode"], challenger["calls"], challenger["rows"]) == \
        ("churn/2", "shadow", 20, 1000)
    assert challenger["errors"] == 0 and challenger["latency"]["p50"] > 0
    (pair,) = result["agreement"]
    assert pair["source"] == "shadow" and pair["rows"] == 1000
    assert pair["rate"] == pytest.approx(expected["rate"])
    assert champion["realised"]["labelled"] == 1000 and challenger["realised"]["labelled"] == 1000
    assert 0 <= challenger["realised"]["accuracy"] <= 1
    # Predictions are profiled on a sample of rows (at most 400 a second): their shares, not counts.
    counts = dict(champion["predictions"]["predict"]["prediction"]["top"])
    assert counts["1"] / sum(counts.values()) == pytest.approx(sum(answered) / len(answered), abs=0.08)
    text = cli("compare", "churn@champion", "churn@challenger", "--serving").stdout
    assert "shadow" in text and f"{expected['rate']:.1%} of 1,000 rows (from shadow)" in text


def test_compare_serving_of_models_never_served_and_bad_refs(registered, cli):
    result = cli("compare", "churn@champion", "churn@challenger", "--serving", "--json")
    assert [model["served"] for model in result["models"]] == [False, False]
    assert result["agreement"][0]["rate"] is None
    assert "not served" in cli("compare", "churn@champion", "churn/2", "--serving").stdout
    refused = cli("compare", "churn@champion", "churn@nope", "--serving", check=False)
    assert refused.returncode == 1 and "no alias 'nope'" in refused.stderr
    # Without --serving, registered models compare as their runs do.
    plain = cli("compare", "churn@champion", "churn@challenger", "--json")
    assert json.dumps(plain).count("LogisticRegression") >= 1
