"""Report charts drawn by matplotlib into PNG bytes: learning curves and feature importances.

Figures are built from matplotlib.figure.Figure on an Agg canvas, never through pyplot, so the
user's matplotlib state (backend, open figures, rcParams) is left as it was."""

from __future__ import annotations

import io
import math

from autotrack.report.document import Chart

# Tableau's ten colours: distinct in print and for the common colour-vision deficiencies.
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf"]
# Validation is what people judge a model by: a solid line; training dashed behind it.
_LINE_STYLES = {"validation": "-", "train": "--", "other": ":"}
_WIDTH, _HEIGHT, _DPI = 7.0, 3.4, 100
_TOP_FEATURES = 20
_LABEL_CHARS = 40


def curve_chart(title: str, series: list[dict], name: str, x_label: str = "step") -> Chart:
    """Lines of [step, value] points overlaid on one chart; each series is
    {"label", "points", "role" (train/validation/other), "color" (palette index)}."""
    figure, axes = _figure(_HEIGHT)
    for line in series:
        steps = [point[0] for point in line["points"]]
        values = [math.nan if point[1] is None else point[1] for point in line["points"]]
        axes.plot(steps, values, label=_plain(line["label"]), color=PALETTE[line["color"] % len(PALETTE)],
                  linestyle=_LINE_STYLES.get(line["role"], "-"), linewidth=1.4,
                  marker="o" if len(steps) <= 30 else None, markersize=3)
    axes.set_title(_plain(title), fontsize=11)
    axes.set_xlabel(x_label)
    axes.grid(True, alpha=0.3)
    if len(series) > 4:  # many runs: a legend beside the plot hides no line
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        axes.legend(fontsize=8, loc="best")
    labels = ", ".join(f"{line['label']} ({line['role']})" for line in series)
    return Chart(_png(figure), alt=f"learning curve of {title}: {labels}", caption=f"{title}: {labels}",
                 name=name)


def importance_chart(kind: str, values: dict, name: str) -> Chart:
    """The top features of one importance kind as horizontal bars, the largest on top."""
    ranked = sorted(((feature, value) for feature, value in values.items() if _finite(value)),
                    key=lambda item: -abs(item[1]))[:_TOP_FEATURES]
    figure, axes = _figure(max(1.6, 0.6 + 0.25 * len(ranked)))
    ranked_bottom_up = list(reversed(ranked))
    axes.barh(range(len(ranked_bottom_up)), [value for _, value in ranked_bottom_up], color=PALETTE[0])
    axes.set_yticks(range(len(ranked_bottom_up)), [_plain(_cut(feature)) for feature, _ in ranked_bottom_up],
                    fontsize=8)
    axes.set_title(_plain(f"feature importance ({kind})"), fontsize=11)
    axes.grid(True, axis="x", alpha=0.3)
    shown = f"top {len(ranked)} of {len(values)}" if len(values) > len(ranked) else f"all {len(ranked)}"
    features = ", ".join(feature for feature, _ in ranked)
    return Chart(_png(figure), alt=f"feature importance ({kind}), {shown} features, largest first: {features}",
                 caption=f"feature importance ({kind}), {shown}; top feature: {ranked[0][0] if ranked else '-'}",
                 name=name)


def _figure(height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(_WIDTH, height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _plain(text: str) -> str:
    """User text drawn as itself: `$` would start mathtext, and a leading `_` hides a legend entry."""
    text = str(text).replace("$", r"\$")
    return " " + text if text.startswith("_") else text


def _cut(text: str) -> str:
    return text if len(text) <= _LABEL_CHARS else text[:_LABEL_CHARS - 1] + "…"


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


__all__ = ["PALETTE", "curve_chart", "importance_chart"]
