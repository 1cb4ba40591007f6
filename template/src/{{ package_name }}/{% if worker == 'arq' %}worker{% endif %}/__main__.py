"""`python -m <package>.worker`: the arq worker, logging in the service's format from its
first line.

arq's own command (`arq <package>.worker.WorkerSettings`) works too, but it sets up
logging its own way before the worker starts, so its first lines are in arq's format
until the startup hook configures the service's.
"""

from arq import run_worker

from ..core.config import get_settings
from ..core.telemetry import configure_telemetry
from . import WorkerSettings

configure_telemetry(get_settings())
run_worker(WorkerSettings)
