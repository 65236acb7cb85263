"""Raw provider bytes to typed records: pure functions, no I/O beyond what they are given."""
