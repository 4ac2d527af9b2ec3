"""Scenarios of the side-by-side benchmark (``bench/run.py``; issue 9, DESIGN §5).

Each scenario module exposes an ``async def run_*(bench, ...)`` that returns plain dicts
(one row per contender) so the same numbers feed the printed table, the JSON file, the
chart and ``bench/RESULTS.md``. Nothing here asserts on time: the e2e test
``tests/e2e/test_bench.py`` only checks that a tiny run completes with sane numbers.
"""
