#!/bin/sh
# Entrypoint of the runtime images: run the given command, or a Python shell.
set -e
if [ "$#" -eq 0 ]; then
  exec python3
fi
exec "$@"
