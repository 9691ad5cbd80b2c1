#!/usr/bin/env bash
# make_list.sh CORPUS SOURCE "LANGS" N OUT: a TSV list "path<TAB>lang" of the first N recordings (in
# path order) of each language of SOURCE in real-v1's recordings.tsv.
set -euo pipefail
[ $# -eq 5 ] || { echo "usage: make_list.sh CORPUS SOURCE LANGS N OUT" >&2; exit 2; }
corpus=$1 source_name=$2 langs=$3 n=$4 out=$5
[ -f "$corpus/recordings.tsv" ] || { echo "make_list.sh: no $corpus/recordings.tsv" >&2; exit 1; }
{
  printf 'path\tlang\n'
  for l in $langs; do
    awk -F'\t' -v s="$source_name" -v l="$l" -v c="$corpus" 'NR > 1 && $2 == s && $3 == l { print c "/audio/" $1 "\t" l }' \
      "$corpus/recordings.tsv" | LC_ALL=C sort | head -n "$n"
  done
} >"$out.tmp"
[ "$(wc -l <"$out.tmp")" -gt 1 ] || { echo "make_list.sh: no recordings of $langs in $source_name" >&2; exit 1; }
mv "$out.tmp" "$out"
