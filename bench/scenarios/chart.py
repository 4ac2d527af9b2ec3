"""A chart of scenario A (makespan bars, created/Succeeded curves) for a look, beside the report; never committed."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_chart(path: Path, rows: list[dict[str, Any]]) -> bool:
    """Makespan bars per N and contender, plus created/succeeded curves of the largest N."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    array_rows = [r for r in rows if r["scenario"] == "A" and r.get("repeat", 1) == 1]
    if not array_rows:
        return False
    sizes = sorted({r["n"] for r in array_rows})
    contenders = list(dict.fromkeys(r["contender"] for r in array_rows))
    figure, (bars, curves) = plt.subplots(1, 2, figsize=(13, 4.8))
    width = 0.8 / len(contenders)
    for i, contender in enumerate(contenders):
        values = [next((r["makespan_s"] for r in array_rows if r["n"] == n and r["contender"] == contender), 0)
                  for n in sizes]
        positions = [x + i * width for x in range(len(sizes))]
        bars.bar(positions, values, width, label=contender)
        for x, v in zip(positions, values):
            bars.text(x, v, f"{v:.0f}s", ha="center", va="bottom", fontsize=8)
    bars.set_xticks([x + width * (len(contenders) - 1) / 2 for x in range(len(sizes))], [f"N={n:,}" for n in sizes])
    bars.set_ylabel("makespan (s): submit → all SUCCEEDED")
    bars.set_title("A. Array burst")
    bars.legend()
    largest = sizes[-1]
    for r in array_rows:
        if r["n"] == largest:
            line, = curves.plot(*zip(*r["created_curve"]), label=f"{r['contender']} created")
            if r["succeeded_curve"]:
                curves.plot(*zip(*r["succeeded_curve"]), linestyle="--", color=line.get_color(),
                            label=f"{r['contender']} Succeeded")
    curves.set_xlabel("seconds since submit")
    curves.set_ylabel("pods")
    curves.set_title(f"A. N={largest:,}: pods created / Succeeded")
    curves.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True
