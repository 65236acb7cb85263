"""Stream kinds: what differs between mail, contacts and calendar events (parser, task input,
persist, what the checks compare). Each kind is one folder, registered in `registry.py`."""
