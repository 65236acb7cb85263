"""The mail stream: messages with their attachments, and the integration's extraction task."""
