#!/bin/sh
# Runs PROGRAM [ARGS...] without root: as the user nobody (uid 65534) when
# this shell runs as root, and unchanged otherwise.
set -eu
if [ "$(id -u)" = 0 ]; then
  exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
fi
exec "$@"
