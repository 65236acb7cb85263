"""iCalendar (``.ics``) files as a source of calendar-event occurrences."""
