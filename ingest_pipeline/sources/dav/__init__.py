"""CalDAV calendars and CardDAV address books (iCloud, Fastmail, Nextcloud, Radicale...)."""
