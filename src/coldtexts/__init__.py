"""coldtexts: a lasting, verifiable archive of iPhone Messages from local backups."""

import logging

__version__ = "0.1.0"

# A library logs; the application (the run log) decides where it goes.
logging.getLogger("coldtexts").addHandler(logging.NullHandler())
