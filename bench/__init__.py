"""`make bench`: every Concierge performance figure, measured side by side in one run."""
