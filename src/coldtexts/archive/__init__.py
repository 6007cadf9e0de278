"""The archive: the store, the lock, atomic publishing, manifest, verify, status, search.

The only code that writes into an archive folder."""
