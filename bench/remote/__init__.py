"""Scripts that run in the generated project's virtual environment, not in newservice's.

Each is run as `python -m bench.remote.NAME` (or named as a uvicorn factory) with the
generated project's `src` and this repository on PYTHONPATH. They import the generated
package by the name given in BENCH_PACKAGE and nothing from the rest of `bench`.
"""
