"""Read sms.db and the AddressBook into the typed model. Knows nothing about backups or output."""
