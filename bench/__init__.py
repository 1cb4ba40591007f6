"""Benchmarks of newservice and of the service it generates: `python -m bench`.

Not tests: they run on demand and write a report (docs/benchmarks.md, its JSON and PNG
charts). CI runs only the smoke size (tests/test_bench_smoke.py), to keep them working.

- `__main__.py`  the command line; runs the sections, writes the report
- `sizes.py`     full and smoke sizes
- `harness.py`   the generated project, its cached venv and database, servers, load runs
- `generation.py`, `throughput.py`, `overload.py`, `eventloop.py`, `recovery.py`
                 one benchmark each (1-5 of the report): how it runs, and its section
                 of the report (targets, tables, notes)
- `section.py`   what a benchmark's section of the report declares
- `report.py`    puts the sections in order: the markdown, the JSON, the console table
- `formatting.py`, `charts.py`, `machine.py`, `stats.py`  what goes in the report
- `remote/`      scripts run by the generated project's venv: the load generator, the
                 variant apps, the floor app, the in-process cost of a list page
                 (`listcost.py`), the database tool, the TCP proxy

Nothing here imports anything heavy at import time: `bench.remote` is imported by the
generated project's environment with this repository on PYTHONPATH.
"""
