"""Load stage: YAML files into plain data and a source map (key path -> file:line:col)."""
