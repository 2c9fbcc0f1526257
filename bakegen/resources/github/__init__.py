"""The scripts the generated GitHub workflow runs (bakegen.github.scripts reads them as text;
importing one would run it)."""
