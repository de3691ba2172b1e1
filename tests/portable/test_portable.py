"""export / import / merge: runs carried whole between stores, as a cluster's nodes or a laptop would."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap

import pytest

pytest.importorskip("sklearn")

# One node's training: a search (parent and children) and a run with a long history.
NODE = """
import sys
import autotrack
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

node = sys.argv[1]
X, y = make_classification(n_samples=120, n_features=4, random_state=int(node))
GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=2).fit(X, y)
with autotrack.start_run(name=f"node {node}", tags={"node": node}):
    autotrack.log_params({"node": int(node)})
    for step in range(200):
        autotrack.log_metric("loss", 1 / (step + 1), step=step)
"""


def train_node(folder, node: str):
    (folder / "node.py").write_text(textwrap.dedent(NODE))
    store = folder / f"node{node}"
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_DIR": str(store), "AUTOTRACK_STRICT": "1"}
    subprocess.run([sys.executable, "node.py", node], cwd=folder, env=env, check=True, capture_output=True, timeout=240)
    return store


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nodes")
    return [train_node(folder, "1"), train_node(folder, "2")]


def at(store, *args, check=True):
    result = subprocess.run([sys.executable, "-m", "autotrack", *args, "--store", str(store)],
                            capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    if "--json" in args and result.returncode == 0:
        return json.loads(result.stdout)
    return result


def everything(store) -> dict[str, dict]:
    """Each run as `show --json` gives it, less what differs by store (paths, exports)."""
    runs = {}
    for run in at(store, "runs", "--json", "-n", "0"):
        shown = at(store, "show", run["id"], "--json")
        shown["artifacts"] = [(a["name"], a["bytes"], open(a["path"], "rb").read()) for a in shown["artifacts"]]
        shown.pop("exports")
        runs[run["id"]] = shown
    return runs


def test_merge_makes_one_store_of_many_nodes_with_parents_and_children_linked(nodes, tmp_path):
    laptop = tmp_path / "laptop"
    answer = at(laptop, "merge", *map(str, nodes), "--json")
    assert [len(entry["imported"]) for entry in answer] == [4, 4]  # a search, 2 candidates, a run
    merged = everything(laptop)
    originals = {**everything(nodes[0]), **everything(nodes[1])}
    assert merged == originals  # every field, history point and artifact byte
    searches = [run for run in merged.values() if run["name"].startswith("GridSearchCV")]
    assert len(searches) == 2 and all(len(run["children"]) == 2 for run in searches)
    again = at(laptop, "merge", *map(str, nodes), "--json")
    assert [entry["imported"] for entry in again] == [[], []] and len(everything(laptop)) == 8
    same = at(laptop, "merge", str(laptop), check=False)
    assert same.returncode == 1 and "is this store" in same.stderr


def test_export_then_import_carries_runs_with_checksums_and_twice_adds_nothing(nodes, tmp_path):
    archive = tmp_path / "runs.tar.gz"
    answer = at(nodes[0], "export", "--where", "name like 'GridSearch%'", "-o", str(archive), "--json")
    assert len(answer["runs"]) == 3  # the search and its candidates
    assert not list(tmp_path.glob("*.partial"))
    target = tmp_path / "other"
    first = at(target, "import", str(archive), "--json")
    assert sorted(first["imported"]) == sorted(answer["runs"]) and first["already"] == []
    original = everything(nodes[0])
    assert everything(target) == {run_id: original[run_id] for run_id in answer["runs"]}
    second = at(target, "import", str(archive), "--json")
    assert second["imported"] == [] and sorted(second["already"]) == sorted(answer["runs"])


def test_a_damaged_or_foreign_archive_is_refused_in_one_line_and_nothing_is_imported(nodes, tmp_path):
    archive = tmp_path / "runs.tar"
    at(nodes[1], "export", "--where", "name like 'node%'", "-o", str(archive))
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w") as copy:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "runs.db":
                data = data[:-100] + bytes(100)  # a disk's bit rot at the end of the database
            member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    not_tar = tmp_path / "notes.txt"
    not_tar.write_text("hello")
    target = tmp_path / "target"
    for path, message in ((damaged, "runs.db does not match its checksum"), (not_tar, "cannot be read"),
                          (tmp_path / "missing.tar", "no file")):
        result = at(target, "import", str(path), check=False)
        assert result.returncode == 1 and message in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (target / "runs.db").exists() or at(target, "runs", "--json") == []
    bad_query = at(nodes[1], "export", "--where", "name like", "-o", str(tmp_path / "x.tar"), check=False)
    assert bad_query.returncode == 1 and "--where" in bad_query.stderr and not (tmp_path / "x.tar").exists()
    nowhere = at(nodes[1], "export", "--where", "name like 'node%'", "-o", str(tmp_path / "gone" / "x.tar"),
                 check=False)
    assert nowhere.returncode == 1 and "there is no folder" in nowhere.stderr and len(nowhere.stderr.splitlines()) == 1
