"""`bakegen affected`: which bake targets a change touches (git's side, the bake file's
entries, what each build reads, and the comparison)."""
