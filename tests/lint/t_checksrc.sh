#!/bin/bash
# tests/lint/t_checksrc.sh: the source conventions (scripts/checksrc):
# top comments, banned.h last, an engine that never prints or exits,
# layers that include only what is below them, 100 columns, no references
# to notes or issues outside the tree.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
exec python3 "$top_srcdir/scripts/checksrc" "$top_srcdir"
