"""The calendar-events stream: one row per event occurrence, dated by its start."""
