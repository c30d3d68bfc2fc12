"""nbvec's benchmark harness: ``python -m bench [--quick] [--only CASE ...]``.

Speed is measured here, never in tests. Layout (data flows top to bottom):

- ``datasets.py``  seeded synthetic sets, sklearn digits, pydocs-minilm read in place;
- ``baselines.py`` the references: numpy brute force, raw annoy;
- ``fixtures.py``  shared inputs built once per run (frames, forests) and engine probes;
- ``runner.py``    interleaved timing, medians, paired ratios, recall@k, ``Target``;
- ``cases/``       the registry (``cases/__init__.py``) and one module per area;
- ``report.py``    figures' formatting and the Markdown report (bench/RESULTS.md);
- ``__main__.py``  the command line.

To add cases see ``bench/cases/__init__.py``.
"""
