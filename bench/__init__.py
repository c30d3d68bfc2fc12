"""nbvec's benchmark harness: ``python -m bench [--quick] [--only CASE ...]``.

Speed is measured here, never in tests. Layout (data flows top to bottom):

- ``datasets.py``   seeded synthetic sets, sklearn digits, pydocs-minilm read in place;
- ``baselines.py``  the references: numpy brute force, raw annoy;
- ``references.py`` the libraries a user would pick instead (annoy, hnswlib, voyager,
  faiss HNSW / IVF / Flat, Qdrant Edge) behind one build / run(knob) interface;
- ``fixtures.py``   shared inputs built once per run (frames, forests, shards) and engine probes;
- ``runner.py``     interleaved timing, medians, paired ratios, recall@k, ``Target``;
- ``cases/``        the registry (``cases/__init__.py``) and one module per area;
- ``memprobe.py``   one contestant's resident memory, in a subprocess of its own;
- ``goals.py``      issue 8's targets, each met or short, from the cases' ``Target``s;
- ``report.py``     figures' formatting and the Markdown report (bench/RESULTS.md);
- ``plots.py``      recall/QPS and selectivity plots (docs/img/ on full runs);
- ``__main__.py``   the command line.

To add cases see ``bench/cases/__init__.py``.
"""
