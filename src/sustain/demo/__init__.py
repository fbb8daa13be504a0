"""Synthetic data, never used by the product itself: the small lived-in world of `sustain demo`
and `sustain run --demo` (world.py, releases.py), and the rows generated in bulk for benchmarks
(`sustain demo --tickets N` / `--bugs N`: tickets.py, bugs.py). It sits above every app and
builds through their actions (the world) or writes their tables directly (bulk); no app imports
it. An app without models, only so that Django finds its `demo` command."""
