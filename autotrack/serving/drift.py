"""Drift of one profile (serving) against another (the training data), column by column.

Each column gets PSI, Jensen-Shannon distance and a test: Kolmogorov-Smirnov for numbers,
chi-squared for categories. A column is flagged only when both hold:
- the test rejects "same distribution" at `alpha / m` (Bonferroni over the m columns compared),
  so identical data at small n is not flagged; the KS distance first loses the sketches' own
  rank error, so that sketch noise is never taken for drift at large n;
- the change is large enough to matter: a normalised Wasserstein distance (the mean shift of
  the quantile function in reference standard deviations) or, for categories, a Jensen-Shannon
  distance of at least `min_effect`, so a huge sample does not flag a negligible change.
A fixed PSI threshold does neither: it is reported, never used to decide. docs/production.md
gives every formula.
"""

from __future__ import annotations

import math

import numpy as np

from autotrack.serving.profile import NUMERIC, column_std, frequencies_of, kll_of

DEFAULT_ALPHA = 0.01
DEFAULT_MIN_EFFECT = 0.1
MIN_ROWS = 30  # fewer serving rows than this say nothing: reported, never flagged
_EPSILON = 1e-4  # floor of a bin's share in PSI and Jensen-Shannon (an empty bin is not infinite)
_GRID = np.linspace(0.005, 0.995, 199)  # quantile levels for the Wasserstein distance
_PSI_BINS = 10


def compare_profiles(reference: dict, current: dict, alpha: float = DEFAULT_ALPHA,
                     min_effect: float = DEFAULT_MIN_EFFECT, columns: list[str] | None = None) -> dict:
    """`{"columns": {name: result}, "drifted": [names], "tested": m}`; a column of the current
    profile missing from the reference (or of another kind) is left to the schema check."""
    names = [name for name in (columns or current.get("columns", {}))
             if name in reference.get("columns", {}) and name in current.get("columns", {})
             and reference["columns"][name]["kind"] == current["columns"][name]["kind"]]
    tested = max(len(names), 1)
    results = {}
    for name in names:
        ref, cur = reference["columns"][name], current["columns"][name]
        result = _numeric(ref, cur) if ref["kind"] == NUMERIC else _categorical(ref, cur)
        result["threshold_p"] = alpha / tested
        enough = cur["count"] >= MIN_ROWS and ref["count"] >= MIN_ROWS
        result["drifted"] = bool(enough and result["p_value"] < alpha / tested
                                 and result["effect"] >= min_effect)
        if not enough:
            result["note"] = f"fewer than {MIN_ROWS} rows"
        results[name] = result
    return {"columns": results, "drifted": [name for name, r in results.items() if r["drifted"]],
            "tested": len(names), "alpha": alpha, "min_effect": min_effect}


def _numeric(ref: dict, cur: dict) -> dict:
    if not ref["count"] or not cur["count"]:
        return _empty("ks")
    ref_kll, cur_kll = kll_of(ref), kll_of(cur)
    points = np.unique(np.concatenate([ref_kll.get_quantiles(_GRID), cur_kll.get_quantiles(_GRID)]))
    ref_cdf = np.asarray(ref_kll.get_cdf(points.tolist()))[:-1]
    cur_cdf = np.asarray(cur_kll.get_cdf(points.tolist()))[:-1]
    distance = float(np.max(np.abs(ref_cdf - cur_cdf))) if len(points) else 0.0
    sketch_error = _rank_error(ref_kll) + _rank_error(cur_kll)
    adjusted = max(distance - sketch_error, 0.0)
    n, m = ref["count"], cur["count"]
    p_value = _ks_p_value(adjusted, n * m / (n + m))
    scale = column_std(ref) or ((ref["max"] - ref["min"]) if ref["max"] != ref["min"] else 1.0)
    shift = np.abs(np.asarray(ref_kll.get_quantiles(_GRID)) - np.asarray(cur_kll.get_quantiles(_GRID)))
    wasserstein = float(shift.mean()) / scale
    ref_bins, cur_bins = _numeric_bins(ref_kll, cur_kll)
    return {"test": "ks", "statistic": distance, "statistic_adjusted": adjusted, "p_value": p_value,
            "effect": wasserstein, "wasserstein": wasserstein, "psi": _psi(ref_bins, cur_bins),
            "jensen_shannon": _jensen_shannon(ref_bins, cur_bins)}


def _rank_error(kll) -> float:
    return kll.normalized_rank_error(False) if kll.is_estimation_mode() else 0.0


def _ks_p_value(distance: float, effective_n: float) -> float:
    if distance <= 0:
        return 1.0
    from scipy.stats import kstwobign

    return float(kstwobign.sf(distance * math.sqrt(effective_n)))


def _numeric_bins(ref_kll, cur_kll) -> tuple[np.ndarray, np.ndarray]:
    """Shares of both in the reference's deciles (fewer bins where the reference repeats values)."""
    edges = np.unique(np.asarray(ref_kll.get_quantiles(np.linspace(0, 1, _PSI_BINS + 1)[1:-1].tolist())))
    if not len(edges):
        return np.array([1.0]), np.array([1.0])
    shares = []
    for kll in (ref_kll, cur_kll):
        cdf = np.asarray(kll.get_cdf(edges.tolist()))  # the last entry is 1.0
        shares.append(np.diff(np.concatenate([[0.0], cdf])))
    return shares[0], shares[1]


def _categorical(ref: dict, cur: dict) -> dict:
    ref_counts, cur_counts = frequencies_of(ref), frequencies_of(cur)
    categories = sorted(set(ref_counts) | set(cur_counts))
    if not categories or not ref["count"] or not cur["count"]:
        return _empty("chi2")
    ref_row = np.array([ref_counts.get(c, 0) for c in categories], dtype=float)
    cur_row = np.array([cur_counts.get(c, 0) for c in categories], dtype=float)
    # Categories beyond the sketch's capacity: one "other" cell, so the totals stay right.
    ref_row = np.append(ref_row, max(ref["count"] - ref_row.sum(), 0.0))
    cur_row = np.append(cur_row, max(cur["count"] - cur_row.sum(), 0.0))
    keep = (ref_row + cur_row) > 0
    ref_row, cur_row = ref_row[keep], cur_row[keep]
    p_value = 1.0
    if len(ref_row) > 1:
        from scipy.stats import chi2_contingency

        p_value = float(chi2_contingency(np.vstack([ref_row, cur_row]))[1])
    ref_share, cur_share = ref_row / ref_row.sum(), cur_row / cur_row.sum()
    js = _jensen_shannon(ref_share, cur_share)
    unseen = sorted(c for c in cur_counts if c not in ref_counts)
    return {"test": "chi2", "statistic": None, "p_value": p_value, "effect": js, "jensen_shannon": js,
            "psi": _psi(ref_share, cur_share), "unseen_categories": unseen[:20]}


def _empty(test: str) -> dict:
    return {"test": test, "statistic": None, "p_value": 1.0, "effect": 0.0, "psi": 0.0, "jensen_shannon": 0.0}


def _psi(expected: np.ndarray, actual: np.ndarray) -> float:
    e, a = np.clip(expected, _EPSILON, None), np.clip(actual, _EPSILON, None)
    return float(np.sum((a - e) * np.log(a / e)))


def _jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """The Jensen-Shannon distance in base 2: 0 for the same shares, 1 for disjoint ones."""
    p, q = np.clip(p, 0, None), np.clip(q, 0, None)
    if p.sum() <= 0 or q.sum() <= 0:
        return 0.0
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(x):
        mask = x > 0
        return float(np.sum(x[mask] * np.log2(x[mask] / m[mask])))

    return math.sqrt(max((kl(p) + kl(q)) / 2, 0.0))


def schema_changes(reference: dict, current: dict) -> dict:
    """What the serving data's columns do that the training data's did not: columns missing or
    added, a column of another kind or dtype, categories never seen in training."""
    ref_cols, cur_cols = reference.get("columns", {}), current.get("columns", {})
    ref_types, cur_types = reference.get("dtypes", {}), current.get("dtypes", {})
    changes = {"missing_columns": sorted(set(ref_cols) - set(cur_cols)),
               "extra_columns": sorted(set(cur_cols) - set(ref_cols)),
               "changed_types": {}, "unseen_categories": {}}
    for name in set(ref_cols) & set(cur_cols):
        if ref_cols[name]["kind"] != cur_cols[name]["kind"] or \
                _type_family(ref_types.get(name)) != _type_family(cur_types.get(name)):
            changes["changed_types"][name] = [ref_types.get(name), cur_types.get(name)]
        elif ref_cols[name]["kind"] != NUMERIC:
            known = frequencies_of(ref_cols[name])
            if len(known) < 96:  # the reference's sketch knew every category: an unknown one is new
                unseen = {c: n for c, n in frequencies_of(cur_cols[name]).items() if c not in known}
                if unseen:
                    changes["unseen_categories"][name] = {"rows": int(sum(unseen.values())),
                                                          "categories": sorted(unseen)[:20]}
    return changes


def _type_family(dtype: str | None) -> str | None:
    """int64 and int32, float32 and float64 are one family: a change between them is not news."""
    if dtype is None:
        return None
    for family in ("int", "float", "bool", "datetime", "category", "object", "str"):
        if family in dtype:
            return "number" if family in ("int", "float") else family
    return dtype


def has_schema_changes(changes: dict) -> bool:
    return any(changes.get(key) for key in ("missing_columns", "extra_columns", "changed_types",
                                            "unseen_categories"))


__all__ = ["compare_profiles", "schema_changes", "has_schema_changes", "DEFAULT_ALPHA", "DEFAULT_MIN_EFFECT"]
