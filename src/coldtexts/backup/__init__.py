"""Find, unlock and extract iPhone backups. Knows nothing about messages."""
