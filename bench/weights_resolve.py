"""How fast a device's WEEE category and weight are resolved, per row, as an import resolves them.

``refurbishing.weights.weight_values_fill`` runs once for every row of a spreadsheet import, in memory (the
defaults table is read once per process). This times it on N rows shaped like an import's (a third with the
donor's weight, a mix of categories, makes and models, some matching a model row of a test table) and prints
the rate and the time per row, to set beside the import's own time per row (bench/import_assets.py). No
database is touched.

    .venv/bin/python bench/weights_resolve.py [--rows 100000 --rounds 5]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "closegap.settings.local")
    import django

    django.setup()
    from refurbishing.weights import TABLE_COLUMNS, weight_table, weight_table_parse, weight_values_fill

    shipped = weight_table()
    model_rows = "".join(f'laptop,Dell,Latitude {n},2,1.{n % 90 + 10},"bench row"\n' for n in range(200))
    table = weight_table_parse(io.StringIO(",".join(TABLE_COLUMNS) + "\n" + model_rows + _category_rows(shipped)))
    shapes = [
        ("laptop", "Dell Inc.", "Latitude 17", None),
        ("laptop", "HEWLETT-PACKARD", "HP EliteBook 840 G6", "1.48"),
        ("desktop", "Lenovo", "ThinkCentre M720q", None),
        ("monitor", "iiyama", "ProLite XU2493HS", "4.1"),
        ("smartphone", "Apple", "iPhone 11", None),
        ("laptop", "Dell", "Latitude 5490", None),
    ]
    rows = [shapes[i % len(shapes)] for i in range(args.rows)]
    seconds = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        for category, manufacturer, model, weight in rows:
            values = {"category": category, "manufacturer": manufacturer, "model": model, "weight_kg": weight}
            values |= {"weee_category": None, "weight_basis": "", "weight_source": ""}
            weight_values_fill(values, table=table)
        seconds.append(time.perf_counter() - start)
    best, median = min(seconds), statistics.median(seconds)
    print(f"rows per round: {args.rows:,}; rounds: {args.rounds}; table rows: {len(table.rows)}")
    print(f"seconds per round: {', '.join(f'{s:.3f}' for s in seconds)}")
    print(f"median: {args.rows / median:,.0f} rows/s ({median / args.rows * 1e6:.2f} µs per row); best {best:.3f} s")


def _category_rows(table) -> str:
    return "".join(
        f'{row.category},,,{row.weee_category},{row.weight_kg},"{row.source}"\n' for row in table.rows if not row.model
    )


if __name__ == "__main__":
    main()
