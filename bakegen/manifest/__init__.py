"""Model stage: the typed manifest (records, builder, platforms, image references)."""
