"""Providers' items behind one contract (`base.Source`); no Dagster here."""
