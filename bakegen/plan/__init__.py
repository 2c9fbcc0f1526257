"""Plan stage: the typed manifest expanded into images, tags, groups and target names; pure, no
I/O."""
