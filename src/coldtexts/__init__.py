"""coldtexts: a lasting, verifiable archive of iPhone Messages from local backups."""

__version__ = "0.1.0"
