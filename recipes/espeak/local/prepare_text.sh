#!/usr/bin/env bash
# Extracts cleaned sentences per language from gettext catalogues and splits them into disjoint
# train and test sentence lists.
#   local/prepare_text.sh <conf/langs.conf> <conf/corpus.conf> <out-dir>
# Writes <out-dir>/<lang>.train and <out-dir>/<lang>.test (one sentence a line, UTF-8).
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 <langs.conf> <corpus.conf> <out-dir>" >&2; exit 2; }
langs=$1; corpus=$2; out=$3
. "$corpus"
here=$(cd "$(dirname "$0")" && pwd)
locale_root=${LOCALE_ROOT:-/usr/share/locale}
mkdir -p "$out"
grep -v '^\s*#' "$langs" | grep -v '^\s*$' | while read -r lang voice source script; do
  kind=${source%%:*}; dir=${source#*:}
  files=()
  for d in $mo_domains; do
    f=$locale_root/$dir/LC_MESSAGES/$d.mo
    [ -f "$f" ] && files+=("$f")
  done
  if [ "${#files[@]}" -eq 0 ]; then
    echo "$0: $lang: no catalogue of [$mo_domains] in $locale_root/$dir (install: tools/install-deps.sh --recipes)" >&2
    exit 1
  fi
  case $kind in
    mo) perl "$here/mo_sentences.pl" --script "$script" "${files[@]}" ;;
    msgid) perl "$here/mo_sentences.pl" --msgid --script "$script" "${files[@]}" ;;
    *) echo "$0: $lang: unknown source kind '$kind'" >&2; exit 1 ;;
  esac > "$out/$lang.all"
  perl "$here/split_text.pl" "$test_percent" "$out/$lang.all" "$out/$lang.train" "$out/$lang.test"
  n_tr=$(wc -l < "$out/$lang.train"); n_te=$(wc -l < "$out/$lang.test")
  echo "$lang: ${#files[@]} catalogues, $(wc -l < "$out/$lang.all") sentences, $n_tr train, $n_te test"
  if [ "$n_tr" -lt "$min_sentences_per_side" ] || [ "$n_te" -lt "$min_sentences_per_side" ]; then
    echo "$0: $lang: fewer than $min_sentences_per_side train or test sentences" >&2; exit 1
  fi
done
