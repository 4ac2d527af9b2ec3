"""The test kit: the local control plane, the real node and its images, for tests and benchmarks.

Why outside ``operator/``: none of it is the product. Kept beside the ``kubatch`` package it
was built into the wheel and so into the operator's image. Here it is importable only from a
checkout (run ``python -m testkit.cluster ...`` from the repository root; pytest and
``bench/run.py`` put the root on ``sys.path``), and ``kubatch`` may not import it (an
import-linter contract in ``pyproject.toml``).
"""
