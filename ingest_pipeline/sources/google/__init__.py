"""Google sources: contacts (People API) and calendars (Calendar API), sharing Gmail's auth."""
