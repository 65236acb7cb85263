"""The prompt-runs stream: daily prompt × model × run items, their answers and entity mentions."""
