"""What the application needs, derived from imported items: interactions, contacts found
in mail, timelines, embeddings, matches, insights. Knows nothing of Dagster."""
