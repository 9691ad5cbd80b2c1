#!/usr/bin/env bash
# The data preparation of recipes/multisource on a tiny fake corpus made on the fly (real-v1 layout:
# recordings.tsv, segments.tsv, audio/): two languages with two sources each (one source with three
# speakers, one with one), plus a one-source language. Checks the Kaldi files written (recording-level
# wav.scp, segments inside their recordings, short clips merged to >= 2 s, every clip kept once,
# utt2lang/utt2spk/utt2source), the protocol's sets (speaker-disjoint test_spk, the cross-source folds
# and what each trains and tests on) and that the leak checks pass untouched and fail on planted leaks.
# Then the same with a second corpus pooled in (make_data.pl <corpus>:<corpus>, as run.sh does with the
# Debian-package corpus): more folds, leak checks again, and a source name in two corpora rejected.
# Last, the per-package rules of local/make_debian_corpus.py (language, speaker, speech or not) on
# example paths of each package (no package needs to be installed).
# Usage: bash multisource_prep.sh <slid-binary> <tests/data dir>   (the binary is not needed)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LOCAL=$ROOT/recipes/multisource/local
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "multisource_prep: FAIL: $*" >&2; exit 1; }

# Corpus: per speaker 3 recordings of 4 clips (0.8 s tone + 0.25 s gap each -> 4.15 s recordings).
c=$tmp/corpus; mkdir -p "$c/audio"
printf 'recording\tsource\tlang\tspeaker\tduration_s\tclips\n' > "$c/recordings.tsv"
printf 'recording\tstart_s\tend_s\toriginal_clip\n' > "$c/segments.tsv"
sox -n -r 16000 -b 16 -c 1 "$tmp/rec.wav" synth 4.15 sine 300 2> /dev/null
add() {  # source lang speaker [corpus]
  local d="$1/$2/$3" r i s c=${4:-$c}
  mkdir -p "$c/audio/$d"
  for r in 0 1 2; do
    cp "$tmp/rec.wav" "$c/audio/$d/${2}_rec_000$r.wav"
    printf '%s\t%s\t%s\t%s\t4.15\t4\n' "$d/${2}_rec_000$r.wav" "$1" "$2" "$3" >> "$c/recordings.tsv"
    for i in 0 1 2 3; do
      s=$(awk -v i=$i 'BEGIN { printf "%.3f", i * 1.05 }')
      printf '%s\t%s\t%s\t%s\n' "$d/${2}_rec_000$r.wav" "$s" "$(awk -v s="$s" 'BEGIN { printf "%.3f", s + 0.8 }')" \
        "$1/$2/$3 clip $r$i.wav" >> "$c/segments.tsv"
    done
  done
}
for s in A B C; do add games xx "Speaker $s"; add games yy "Speaker $s"; done
add words xx solo; add words yy solo; add games zz "Speaker A"

perl "$LOCAL/make_data.pl" "$c" 2 "" "$tmp/all" 2> /dev/null || fail "make_data.pl failed"
a=$tmp/all
[[ $(wc -l < "$a/wav.scp") == 27 ]] || fail "wav.scp has $(wc -l < "$a/wav.scp") recordings, expected 27"
# 4 clips of 0.8 s at 1.05 s spacing, merged to >= 2 s: clips 1-3 (2.9 s) and clip 4 alone.
[[ $(wc -l < "$a/segments") == 54 ]] || fail "segments has $(wc -l < "$a/segments") utterances, expected 54"
awk '{ n = split($0, f, " "); c += n - 1 } END { exit c != 108 }' "$a/utt2clips" || fail "utt2clips does not hold the 108 clips"
grep -q 'clip%2000.wav' "$a/utt2clips" || fail "a space in a clip name is not written %20"
awk 'NR == FNR { rec[$1] = 1; next } !($2 in rec) || $3 < 0 || $4 <= $3 || $4 > 4.15 { bad = 1 } END { exit bad }' \
  "$a/wav.scp" "$a/segments" || fail "a segment names an unknown recording or lies outside it"
awk '$4 - $3 < 2 && $3 < 3 { bad = 1 } END { exit bad }' "$a/segments" || fail "a merged utterance is shorter than 2 s"
for f in utt2lang utt2spk utt2source utt2dur; do
  [[ $(cut -d' ' -f1 "$a/$f") == $(cut -d' ' -f1 "$a/segments") ]] || fail "$f does not list the utterances of segments in order"
done
[[ $(cut -d' ' -f2 "$a/utt2spk" | sort -u | wc -l) == 9 ]] || fail "expected 9 speakers"
LC_ALL=C sort -c "$a/segments" || fail "segments not sorted"

perl "$LOCAL/make_sets.pl" "$a" 30 30 0 0 "$tmp" || fail "make_sets.pl failed"
# test_spk: held-out speakers of games (3 speakers) only, none of them in train
[[ -s "$tmp/test_spk/utt2spk" ]] || fail "no held-out speaker"
grep -qv '^games' "$tmp/test_spk/utt2source" && fail "test_spk holds a one-speaker source"
cut -d' ' -f2 "$tmp/test_spk/utt2spk" | sort -u | grep -Fxf - <(cut -d' ' -f2 "$tmp/train/utt2spk") && fail "speaker in train and test_spk"
# folds: xs1 holds out games (the source with most languages), xs2 words; zz (one source) is in neither
grep -qx 'xs1 games | xx yy' "$tmp/folds.txt" || fail "fold 1 is not 'games | xx yy': $(cat "$tmp/folds.txt")"
grep -qx 'xs2 words | xx yy' "$tmp/folds.txt" || fail "fold 2 is not 'words | xx yy'"
[[ $(cut -d' ' -f2 "$tmp/xs1_train/utt2source" | sort -u) == words ]] || fail "xs1_train is not words only"
[[ $(cut -d' ' -f2 "$tmp/xs1_test/utt2source" | sort -u) == games ]] || fail "xs1_test is not games only"
grep -q ' zz$' "$tmp/xs1_test/utt2lang" && fail "a one-source language in a cross-source test"
[[ $(cut -d' ' -f2 "$tmp/train_1spk/utt2spk" | sort -u | wc -l) == 3 ]] || fail "train_1spk does not keep one speaker per language"
# calibration split (stage 9): train -> caltrain + caldev by speaker; games keeps 2 training speakers
# per language after test_spk, so one of them per language becomes development data; words/zz (one
# speaker) stay in training; nothing lost, no speaker on both sides, same split on a rerun
perl "$LOCAL/make_dev.pl" "$tmp/train" 30 "$tmp/caltrain" "$tmp/caldev" > /dev/null || fail "make_dev.pl failed"
[[ $(cut -d' ' -f2 "$tmp/caldev/utt2lang" | sort -u | tr '\n' ' ') == "xx yy " ]] || fail "caldev languages: $(cut -d' ' -f2 "$tmp/caldev/utt2lang" | sort -u)"
[[ $(cut -d' ' -f2 "$tmp/caldev/utt2source" | sort -u) == games ]] || fail "caldev holds a one-speaker source"
cut -d' ' -f2 "$tmp/caldev/utt2spk" | sort -u | grep -Fxf - <(cut -d' ' -f2 "$tmp/caltrain/utt2spk") && fail "speaker in caltrain and caldev"
[[ $(cat "$tmp/caltrain/segments" "$tmp/caldev/segments" | sort) == $(sort "$tmp/train/segments") ]] || fail "caltrain + caldev != train"
awk 'NR == FNR { r[$2] = 1; next } !($1 in r) { bad = 1 } END { exit bad }' "$tmp/caldev/segments" "$tmp/caldev/wav.scp" ||
  fail "caldev/wav.scp lists a recording it does not use"
perl "$LOCAL/make_dev.pl" "$tmp/train" 30 "$tmp/caltrain2" "$tmp/caldev2" > /dev/null
cmp -s "$tmp/caldev/segments" "$tmp/caldev2/segments" || fail "make_dev.pl is not deterministic"
perl "$LOCAL/make_dev.pl" "$tmp/train_1spk" 30 "$tmp/x1" "$tmp/x2" > /dev/null 2>&1 && fail "make_dev.pl accepted a set without dev speakers"
# Z-norm cohort sample: at most N utterances per (language, source)
perl "$LOCAL/subset_per_source.pl" "$tmp/train" 1 "$tmp/cohort" > /dev/null || fail "subset_per_source.pl failed"
[[ $(paste -d' ' <(cut -d' ' -f2 "$tmp/cohort/utt2lang") <(cut -d' ' -f2 "$tmp/cohort/utt2source") | sort | uniq -d) == "" ]] ||
  fail "cohort holds two utterances of one (language, source)"
[[ $(wc -l < "$tmp/cohort/segments") == $(paste -d' ' <(cut -d' ' -f2 "$tmp/train/utt2lang") <(cut -d' ' -f2 "$tmp/train/utt2source") | sort -u | wc -l) ]] ||
  fail "cohort misses a (language, source)"

out=$(perl "$LOCAL/check_sets.pl" "$tmp") || fail "check_sets.pl rejects the untouched sets"
"$LOCAL/test_check_sets.sh" "$tmp" > "$tmp/planted.txt" || fail "a planted leak was not rejected: $(cat "$tmp/planted.txt")"
[[ $(grep -c 'rejected as expected' "$tmp/planted.txt") == 3 ]] || fail "expected 3 rejected leaks"

# --- a second corpus pooled in: source "debwords" gives zz a second source and xx a third
c1=$c; c=$tmp/corpus2; mkdir -p "$c/audio"
head -n 1 "$c1/recordings.tsv" > "$c/recordings.tsv"; head -n 1 "$c1/segments.tsv" > "$c/segments.tsv"
add debwords zz v1; add debwords xx v2
c=$c1
p=$tmp/pooled; mkdir -p "$p"
perl "$LOCAL/make_data.pl" "$tmp/corpus:$tmp/corpus2" 2 "" "$p/all" 2> /dev/null || fail "make_data.pl on two corpora failed"
[[ $(wc -l < "$p/all/wav.scp") == 33 ]] || fail "pooled wav.scp has $(wc -l < "$p/all/wav.scp") recordings, expected 27 + 6"
[[ $(cut -d' ' -f2 "$p/all/utt2source" | sort -u | tr '\n' ' ') == "debwords games words " ]] || fail "pooled sources wrong"
grep -q "/corpus2/audio/debwords/zz/v1/zz_rec_0000.wav$" "$p/all/wav.scp" || fail "a recording of corpus 2 is not in wav.scp"
perl "$LOCAL/make_sets.pl" "$p/all" 30 30 0 0 "$p" || fail "make_sets.pl on the pooled corpus failed"
# folds: games (3 languages) first; debwords cannot join it (zz would lose both sources), words joins debwords
grep -qx 'xs1 games | xx yy zz' "$p/folds.txt" || fail "pooled fold 1 is not 'games | xx yy zz': $(cat "$p/folds.txt")"
grep -qx 'xs2 debwords words | xx yy zz' "$p/folds.txt" || fail "pooled fold 2 is not 'debwords words | xx yy zz'"
[[ $(wc -l < "$p/folds.txt") == 2 ]] || fail "expected 2 pooled folds"
grep -q ' zz$' "$p/xs1_test/utt2lang" || fail "zz (two sources now) is not in a cross-source test"
perl "$LOCAL/check_sets.pl" "$p" > /dev/null || fail "check_sets.pl rejects the untouched pooled sets"
"$LOCAL/test_check_sets.sh" "$p" > "$tmp/planted2.txt" || fail "a planted leak in the pooled sets was not rejected"
[[ $(grep -c 'rejected as expected' "$tmp/planted2.txt") == 3 ]] || fail "expected 3 rejected leaks in the pooled sets"
# leave-one-source-out per language (at most 1 held-out source per language and fold): 3 folds
q=$tmp/loso; mkdir -p "$q"
perl "$LOCAL/make_sets.pl" "$p/all" 30 30 0 0 "$q" 1 0 || fail "make_sets.pl with 1 held-out source per language failed"
[[ $(cut -d'|' -f1 "$q/folds.txt" | tr '\n' ';') == "xs1 games ;xs2 debwords ;xs3 words ;" ]] ||
  fail "leave-one-source-out folds are not games; debwords; words: $(cat "$q/folds.txt")"
perl "$LOCAL/check_sets.pl" "$q" > /dev/null || fail "check_sets.pl rejects the leave-one-source-out sets"
perl "$LOCAL/fold_table.pl" "$q" | grep -q '^| zz | games (.* | debwords (' || fail "fold_table.pl: zz row wrong"
# a (language, source) pair under the minimum does not count: one speaker's 0.19 min is too little, so
# only games' xx and yy (three speakers each) remain and no language has two sources: no folds
mkdir -p "$q/min"
perl "$LOCAL/make_sets.pl" "$p/all" 30 30 0 0 "$q/min" 1 0.25 || fail "make_sets.pl with a minimum per source failed"
[[ ! -s "$q/min/folds.txt" ]] || fail "pairs under the minimum still make folds: $(cat "$q/min/folds.txt")"
# the same source name in two corpora is an error (its speakers would be merged)
c=$tmp/corpus3; mkdir -p "$c/audio"
head -n 1 "$c1/recordings.tsv" > "$c/recordings.tsv"; head -n 1 "$c1/segments.tsv" > "$c/segments.tsv"
add words zz solo; c=$c1
if perl "$LOCAL/make_data.pl" "$tmp/corpus:$tmp/corpus3" 2 "" "$tmp/bad" 2> "$tmp/err"; then fail "a source in two corpora was accepted"; fi
grep -q "source 'words' is also in" "$tmp/err" || fail "unclear error for a source in two corpora: $(cat "$tmp/err")"

# --- the rules of local/make_debian_corpus.py on example paths (numpy only; no package needed)
if /usr/bin/python3 -c 'import numpy' 2> /dev/null; then
  PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$LOCAL /usr/bin/python3 - <<'PY' || fail "make_debian_corpus.py rules"
import make_debian_corpus as m
cases = [
    (m.rule_tuxpaint, '/usr/share/tuxpaint/stamps/animals/amphibians/frog-1_desc_bg.ogg', ('bg', 'narrator')),
    (m.rule_tuxpaint, '/usr/share/tuxpaint/stamps/food/spices/ginger_desc_pt_BR.wav', ('pt', 'narrator')),
    (m.rule_tuxpaint, '/usr/share/tuxpaint/stamps/animals/birds/crow_desc.ogg', ('en', 'narrator')),
    (m.rule_tuxpaint, '/usr/share/tuxpaint/stamps/animals/birds/crow.ogg', None),
    (m.rule_fillets, '/usr/share/games/fillets-ng/sound/airplane/cs/let-m-divna.ogg', ('cs', 'small fish')),
    (m.rule_fillets, '/usr/share/games/fillets-ng/sound/airplane/nl/let-v-oko.ogg', ('nl', 'big fish')),
    (m.rule_fillets, '/usr/share/games/fillets-ng/sound/fdto/cs/hybeme-v.ogg', ('cs', 'big fish')),
    (m.rule_fillets, '/usr/share/games/fillets-ng/sound/share/borejokes/nl/smrt-m-0.ogg', ('nl', 'small fish')),
    (m.rule_fillets, '/usr/share/games/fillets-ng/sound/cabin1/cs/k1-pap-kruci.ogg', None),
    (m.rule_fillets, '/usr/share/games/fillets-ng/sound/barrel/cs/bar-x-vypr.ogg', None),
    (m.rule_fillets, '/usr/share/games/fillets-ng/music/kufrik.ogg', None),
    (m.rule_festvox_ru, '/usr/share/festival/voices/russian/msu_ru_nsh_clunits/wav/ru_0001.wav', ('ru', 'nsh')),
    (m.rule_gcin, '/usr/share/gcin-voice/ogg/\u3105\u311a/5.ogg', ('zh', 'voice5')),
    (m.rule_klettres, '/usr/share/klettres/en_GB/alpha/a.ogg', ('en', 'en_GB')),
    (m.rule_klettres, '/usr/share/klettres/pics/x.ogg', None),
    (m.rule_klettres, '/usr/share/klettres/nb/alpha/U0061.ogg', None),
    (m.rule_ktuberling, '/usr/share/ktuberling/sounds/sr@latin/brkovi.ogg', ('sr', 'sr@latin')),
    (m.rule_asterisk, '/usr/share/asterisk/sounds/en_US_f_Allison/digits/1.wav', ('en', 'en_US_f_Allison')),
    (m.rule_asterisk, '/usr/share/asterisk/sounds/en_US_f_Allison/silence/1.wav', None),
    (m.rule_asterisk, '/usr/share/asterisk/sounds/it_IT_f_Menardi/beep.wav', None),
    (m.rule_asterisk, '/usr/share/asterisk/sounds/it_IT_m_Carlo/confbridge-join.wav', None),
    (m.rule_asterisk, '/usr/share/asterisk/sounds/es/digits/1.gsm', ('es', 'es_CO_f_July')),
    (m.rule_asterisk, '/usr/share/asterisk/sounds/fr/agent-pass.gsm', ('fr', 'fr_FR_f_Armelle')),
]
bad = 0
for rule, path, want in cases:
    got = rule(path)
    if (want is None and not isinstance(got, str)) or (want is not None and got != want):
        print(f'{rule.__name__}({path}) = {got!r}, expected {want!r}'); bad += 1
raise SystemExit(bad)
PY
fi
echo "multisource_prep: ok"
