"""Local mailboxes (mbox, Maildir, folder of .eml files) as a source."""
