#!/bin/sh
# Runs a libFuzzer target from a committed corpus without writing to it: the
# inputs that raise coverage go to a temporary folder, removed at the end.
# Usage: fuzz/run_corpus.sh TARGET CORPUS [libFuzzer options...]
set -eu
target=$1
corpus=$2
shift 2
scratch=$(mktemp -d "${TMPDIR:-/tmp}/smmhub-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
"$target" "$@" "$scratch" "$corpus"
