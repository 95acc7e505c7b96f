"""Candid's Django project: settings, URLs, WSGI/ASGI entry points and the gunicorn configuration.

Imported before anything numerical, so that the linear-algebra libraries under numpy and scipy
(OpenBLAS and OpenMP pools) start with one thread per process unless the operator sets these
variables: the web workers and the background worker are already one process per core, and a
disclosure check with a pool per process fighting over the cores ran 13 times slower (78 s against
6 s on two cores).
"""

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
