"""Settings for the submission benchmark's server: the demo settings plus the bare-insert floor view.

Only ``bench/bench_submit.py`` uses these; the floor view is never part of the site's own URLs.
"""

from config.settings.local import *  # noqa: F403

ROOT_URLCONF = "bench.floor"
