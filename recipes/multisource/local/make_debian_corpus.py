#!/usr/bin/python3
"""Builds a corpus in real-v1 form from the recorded speech shipped in Debian packages.

    local/make_debian_corpus.py [--target-seconds 30] [--max-speaker-minutes 40] [--sources a,b] <out-dir>

Reads the installed packages' files (`dpkg -L <package>`, nothing else, no network) and writes
<out-dir>/{recordings.tsv, segments.tsv, audio/, README.md, skipped.tsv} with the columns and conventions
of ../shared/corpora/real-v1 (see its README):
  recordings.tsv  recording (path under audio/), source, lang, speaker, duration_s, clips
  segments.tsv    recording, start_s, end_s, original_clip (the package file, absolute path)
  audio/<source>/<lang>/<speaker>/<lang>_<speaker>_<NNNN>.flac   16 kHz mono 16-bit FLAC
Clips of one (source, language, speaker) are taken in path order and joined with 0.25 s of silence
into recordings of about --target-seconds (a clip is never split; clips of 20 s or more stand alone);
at most --max-speaker-minutes are kept per speaker of a source, as in real-v1.

Per package: which files are speech, their language and their speaker are decided by the rules in
SOURCES below (one function per package, its rule in its docstring; recipes/multisource/README.md has
the table). Every kept file must also pass a generic check: at least MIN_CLIP_SECONDS long and its
loudest 100 ms above SILENCE_DBFS (rejects empty and silent files). Files with identical bytes are kept
once (first in package order: several packages ship the same recording under several names).
Skipped files are listed with the reason in skipped.tsv.

The output is written to <out-dir>.tmp and renamed at the end, so an interrupted run leaves no
half-written corpus.
"""
import argparse
import collections
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys

import numpy as np
# soundfile (python3-soundfile) and torchaudio are imported where audio is read or written, so that
# the rules below can be tested without them (tests/cli/multisource_prep.sh).

RATE_HZ = 16000
GAP_SECONDS = 0.25             # silence between joined clips (real-v1)
STANDALONE_SECONDS = 20.0      # clips at least this long are a recording of their own (real-v1)
MIN_CLIP_SECONDS = 0.2         # shorter files are not speech we can use
SILENCE_DBFS = -45.0           # a file whose loudest 100 ms stays below this level is silent


def norm_lang(locale):
    """ISO code of a package's locale folder or suffix: pt_BR -> pt, en_GB -> en, sr@latin -> sr."""
    return re.split(r'[_@.]', locale)[0].lower()


# ---- per-package rules: each returns (lang, speaker label) for a speech file, or a skip reason (str)

def rule_tuxpaint(path):
    """tuxpaint-stamps-default: the spoken descriptions are stamps/**/<name>_desc_<locale>.{ogg,wav};
    <name>_desc.ogg without a locale is the default (English) description. <name>.ogg without _desc is
    the stamp's sound effect (animal cry, engine...), not speech. The package names no voice per file;
    its changelog credits one narrator per language for most languages (bg, be, da, el, es, ca, ...),
    Brazilian Portuguese is "various school children": speaker = one label per language ("narrator"),
    honest for most languages, a mixture for pt."""
    m = re.search(r'_desc(?:_([A-Za-z]+(?:_[A-Za-z]+)?(?:@\w+)?))?\.(ogg|wav)$', path)
    if not m:
        return 'sound effect (no _desc in the name)'
    return norm_lang(m.group(1) or 'en'), 'narrator'


def rule_fillets(path):
    """fillets-ng-data-{cs,nl}: game dialogue, sound/<level>/<lang>/<level>-<who>-<line>.ogg (or
    <line>-<who>.ogg in one level; the fishes' jokes shared by levels in sound/share/<group>/<lang>/).
    <who> = m (the small fish) or v (the big fish): the two actors of each language's dubbing, kept as
    two speakers. Other <who> codes (parrot, skull, robots, computers, "x" = effects) and files without
    a code (briefcase help tape, ...) are mixed characters and effects whose actors are not known:
    skipped. fillets-ng-data (the "en" folders) is not used: it holds effects and untranslated
    Russian/German snippets, no English dialogue."""
    m = re.search(r'/sound/(?:share/)?[^/]+/([a-z][a-z])/([^/]+)\.ogg$', path)
    if not m:
        return 'not a dialogue file (sound/<level>/<lang>/)'
    who = re.search(r'^[^-]+-(m|v)-|-(m|v)$', m.group(2))
    if not who:
        return 'not a line of the small or big fish'
    fish = who.group(1) or who.group(2)
    return m.group(1), 'small fish' if fish == 'm' else 'big fish'


def rule_festvox_ru(path):
    """festvox-ru: msu_ru_nsh_clunits/wav/ru_NNNN.wav are the recorded sentences of the unit-selection
    voice (one speaker, "nsh"); everything else is model data."""
    if re.search(r'/msu_ru_nsh_clunits/wav/[^/]+\.wav$', path):
        return 'ru', 'nsh'
    return 'not a recorded sentence'


def rule_gcin(path):
    """gcin-voice: ogg/<zhuyin syllable>/{3,5}.ogg, Mandarin syllables; the copyright file gives 3.ogg
    and 5.ogg two different origins (Edward Der-Hua Liu; voice actor Chu Lo for ChionMeilin), so the
    file name is the voice: speakers "voice3" and "voice5"."""
    m = re.search(r'/gcin-voice/ogg/[^/]+/(\d+)\.ogg$', path)
    if not m:
        return 'not a syllable file'
    return 'zh', 'voice' + m.group(1)


def rule_klettres(path):
    """klettres-data: klettres/<locale>/{alpha,syllab}/*.ogg, letters and syllables spoken by one voice
    per locale folder (no voice is named): speaker = the locale folder (en and en_GB are two speakers
    of en; alpha and syllab of one folder are assumed to be one voice). nb is left out: its 29 letters
    are the recordings of gcompris-voices nb/alphabet in real-v1 (local/check_overlap.py: 29 copies of
    29), so they would sit in a cross-source fold's training and test sets under two source names."""
    m = re.search(r'/klettres/([^/]+)/(alpha|syllab)/[^/]+\.ogg$', path)
    if not m:
        return 'not a letter or syllable'
    if m.group(1) == 'nb':
        return 'copy of gcompris-voices nb/alphabet (real-v1)'
    return norm_lang(m.group(1)), m.group(1)


def rule_ktuberling(path):
    """ktuberling-data: ktuberling/sounds/<locale>/*.{ogg,wav,opus}, spoken names of the objects, one
    voice per locale folder (not named): speaker = the locale folder. sr, sr@latin, sr@ijekavian and
    sr@ijekavianlatin hold the same files (removed as byte-identical duplicates)."""
    m = re.search(r'/ktuberling/sounds/([^/]+)/[^/]+\.(ogg|wav|opus)$', path)
    if not m:
        return 'not a spoken word'
    return norm_lang(m.group(1)), m.group(1)


ASTERISK_NONSPEECH = re.compile(
    r'^(silence/.*|beep|beeperr|ascending-2tone|descending-2tone|tt-monkeys|confbridge-join|confbridge-leave)$')


def rule_asterisk(path):
    """asterisk-core-sounds-<lang>-wav and asterisk-prompt-*: telephone prompts (8 kHz), sounds/<voice
    folder>/**; language = the voice folder's locale (en_US_f_Allison -> en; the es-co and fr-armelle
    packs use a bare es/ and fr/ folder), speaker = the voice folder plus the package's named actor
    (Allison, June, Carlo, IvrvoiceRU, Menardi; es-co: July Jimenez; fr-armelle: Armelle). Non-speech:
    silence/*, beeps and tones (the skip list of recipes/asterisk, plus confbridge-join/-leave: tones
    that core-sounds it and the it-menardi pack share, found by local/check_overlap.py)."""
    m = re.search(r'/asterisk/sounds/([^/]+)/(.+)\.(wav|gsm)$', path)
    if not m:
        return 'not a prompt'
    folder, prompt = m.group(1), m.group(2)
    if ASTERISK_NONSPEECH.match(prompt):
        return 'beep, tone or silence'
    names = {'es': 'es_CO_f_July', 'fr': 'fr_FR_f_Armelle'}
    return norm_lang(folder), names.get(folder, folder)


# source -> (packages, rule, licence as stated in /usr/share/doc/<package>/copyright, shippable?)
# Source = the production (the same recording set, studio and way of speaking), so that a
# cross-source fold never trains and tests on two halves of one production: tuxpaint-stamps,
# fillets-ng (cs and nl dubbing of one game), klettres, ktuberling, festvox-ru and gcin-voice are one
# source each; the five asterisk-core-sounds voices were recorded for one product (Digium's prompt
# set, same scripts) and are one source; the three asterisk-prompt packs were each recorded by a
# different company or person and are three sources.
SOURCES = collections.OrderedDict([
    ('tuxpaint-stamps', (['tuxpaint-stamps-default'], rule_tuxpaint, 'GPL-2+', True)),
    ('fillets-ng', (['fillets-ng-data-cs', 'fillets-ng-data-nl'], rule_fillets, 'GPL-2', True)),
    ('festvox-ru', (['festvox-ru'], rule_festvox_ru, 'BSD-like (free use and redistribution)', True)),
    ('gcin-voice', (['gcin-voice'], rule_gcin, 'GPL-3 or LGPL-3 (3.ogg), CC-BY-3.0 (5.ogg)', True)),
    ('klettres', (['klettres-data'], rule_klettres, 'GPL-2+', True)),
    ('ktuberling', (['ktuberling-data'], rule_ktuberling, 'GPL-2+', True)),
    ('asterisk-core-sounds', ([f'asterisk-core-sounds-{l}-wav' for l in ('en', 'es', 'fr', 'it', 'ru')],
                              rule_asterisk, 'CC-BY-SA-3.0 (en, es, fr), CC-BY-3.0 (it, ru)', True)),
    ('asterisk-prompt-es-co', (['asterisk-prompt-es-co'], rule_asterisk, 'GPL-2', True)),
    ('asterisk-prompt-fr-armelle', (['asterisk-prompt-fr-armelle'], rule_asterisk, 'BSD-like (redistribution and use permitted)', True)),
    ('asterisk-prompt-it-menardi', (['asterisk-prompt-it-menardi-wav'], rule_asterisk, 'CC-BY-SA-3.0 (Italian)', True)),
])


def package_files(pkg):
    try:
        out = subprocess.run(['dpkg', '-L', pkg], check=True, capture_output=True, text=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError) as e:
        sys.exit(f'make_debian_corpus.py: package {pkg} is not installed (tools/install-deps.sh --recipes): {e}')
    files = sorted(p for p in out.splitlines() if re.search(r'\.(ogg|wav|opus|gsm)$', p) and os.path.isfile(p))
    if not files:
        sys.exit(f'make_debian_corpus.py: package {pkg} holds no sound files')
    return files


def read_audio(path):
    """Returns float32 mono samples at RATE_HZ. Raw GSM (.gsm, no header) is decoded by sox."""
    import soundfile as sf
    if path.endswith('.gsm'):
        wav = subprocess.run(['sox', '-q', '-t', 'gsm', '-r', '8000', '-c', '1', path, '-t', 'wav', '-b', '16', '-'],
                             check=True, capture_output=True).stdout
        x, rate = sf.read(io.BytesIO(wav), dtype='float32', always_2d=True)
    else:
        x, rate = sf.read(path, dtype='float32', always_2d=True)
    x = x.mean(axis=1)
    if rate != RATE_HZ and len(x):
        import torch
        import torchaudio.functional as AF
        x = AF.resample(torch.from_numpy(np.ascontiguousarray(x)), rate, RATE_HZ).numpy()
    return x.astype(np.float32)


def loudest_dbfs(x):
    n = RATE_HZ // 10
    if len(x) < n:
        return 20 * np.log10(max(np.sqrt(np.mean(x ** 2)), 1e-10)) if len(x) else -200.0
    frames = x[: len(x) // n * n].reshape(-1, n)
    return 20 * np.log10(max(np.sqrt((frames ** 2).mean(axis=1)).max(), 1e-10))


def clean(s):
    s = re.sub(r'[^A-Za-z0-9]+', '', s)
    return s or 'x'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('out_dir')
    ap.add_argument('--target-seconds', type=float, default=30.0, help='recording length to aim at (default 30)')
    ap.add_argument('--max-speaker-minutes', type=float, default=40.0,
                    help='audio kept per speaker of a source, in path order (default 40)')
    ap.add_argument('--sources', default='', help='comma-separated subset of: ' + ', '.join(SOURCES))
    args = ap.parse_args()
    import soundfile as sf
    wanted = [s for s in args.sources.split(',') if s] or list(SOURCES)
    for s in wanted:
        if s not in SOURCES:
            sys.exit(f'make_debian_corpus.py: unknown source {s!r} (known: {", ".join(SOURCES)})')
    out = args.out_dir.rstrip('/')
    tmp = out + '.tmp'
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp + '/audio')

    skipped = []
    seen = {}
    groups = collections.OrderedDict()   # (source, lang, speaker) -> [path]
    for source in wanted:
        pkgs, rule, _, _ = SOURCES[source]
        for pkg in pkgs:
            for path in package_files(pkg):
                r = rule(path)
                if isinstance(r, str):
                    skipped.append((path, r))
                    continue
                with open(path, 'rb') as f:
                    digest = hashlib.md5(f.read()).hexdigest()
                if digest in seen:
                    skipped.append((path, 'same bytes as ' + seen[digest]))
                    continue
                seen[digest] = path
                groups.setdefault((source, r[0], r[1]), []).append(path)

    rec_rows, seg_rows = [], []
    gap = np.zeros(int(GAP_SECONDS * RATE_HZ), dtype=np.float32)
    for (source, lang, spk), paths in sorted(groups.items()):
        d = f'{source}/{lang}/{clean(spk)}'
        os.makedirs(f'{tmp}/audio/{d}', exist_ok=True)
        pending, kept_s, n = [], 0.0, 0

        def flush():
            nonlocal pending, n
            if not pending:
                return
            name = f'{d}/{lang}_{clean(spk)}_{n:04d}.flac'
            n += 1
            parts, t = [], 0
            for i, (p, x) in enumerate(pending):
                if i:
                    parts.append(gap)
                    t += len(gap)
                seg_rows.append((name, t / RATE_HZ, (t + len(x)) / RATE_HZ, p))
                parts.append(x)
                t += len(x)
            y = np.clip(np.concatenate(parts), -1.0, 1.0)
            sf.write(f'{tmp}/audio/{name}', y, RATE_HZ, format='FLAC', subtype='PCM_16')
            rec_rows.append((name, source, lang, spk, len(y) / RATE_HZ, len(pending)))
            pending = []

        for p in paths:
            try:
                x = read_audio(p)
            except Exception as e:   # a damaged file is skipped, not fatal
                skipped.append((p, f'unreadable: {e}'))
                continue
            dur = len(x) / RATE_HZ
            if dur < MIN_CLIP_SECONDS:
                skipped.append((p, f'shorter than {MIN_CLIP_SECONDS} s'))
                continue
            if loudest_dbfs(x) < SILENCE_DBFS:
                skipped.append((p, f'silent (loudest 100 ms below {SILENCE_DBFS} dBFS)'))
                continue
            if kept_s + dur > args.max_speaker_minutes * 60:
                skipped.append((p, f'over {args.max_speaker_minutes} min for this speaker'))
                continue
            kept_s += dur
            if dur >= STANDALONE_SECONDS:
                flush()
                pending = [(p, x)]
                flush()
                continue
            cur = sum(len(q) for _, q in pending) / RATE_HZ + GAP_SECONDS * max(len(pending) - 1, 0)
            if pending and cur + GAP_SECONDS + dur > args.target_seconds:
                flush()
            pending.append((p, x))
        flush()

    with open(f'{tmp}/recordings.tsv', 'w', encoding='utf-8') as f:
        f.write('recording\tsource\tlang\tspeaker\tduration_s\tclips\n')
        for r in rec_rows:
            f.write('%s\t%s\t%s\t%s\t%.3f\t%d\n' % r)
    with open(f'{tmp}/segments.tsv', 'w', encoding='utf-8') as f:
        f.write('recording\tstart_s\tend_s\toriginal_clip\n')
        for r in seg_rows:
            f.write('%s\t%.3f\t%.3f\t%s\n' % r)
    with open(f'{tmp}/skipped.tsv', 'w', encoding='utf-8') as f:
        f.write('file\treason\n')
        for p, why in skipped:
            f.write(f'{p}\t{why}\n')

    # README: per source and per language, from what was written
    by_src = collections.OrderedDict((s, [set(), set(), 0.0, 0]) for s in wanted)
    by_lang = collections.defaultdict(lambda: [0.0, set(), set()])
    for name, source, lang, spk, dur, clips in rec_rows:
        b = by_src[source]
        b[0].add(lang); b[1].add((lang, spk)); b[2] += dur; b[3] += clips
        L = by_lang[lang]
        L[0] += dur; L[1].add((source, spk)); L[2].add(source)
    with open(f'{tmp}/README.md', 'w', encoding='utf-8') as f:
        f.write('# debian: recorded speech from Debian packages, in real-v1 form\n\n'
                'Made by recipes/multisource/local/make_debian_corpus.py from the installed packages '
                '(rules per package: that script and recipes/multisource/README.md). 16 kHz mono FLAC; clips of '
                f'one speaker joined with {GAP_SECONDS} s gaps into recordings of about {args.target_seconds:g} s. '
                f'{len(rec_rows)} recordings, {sum(r[4] for r in rec_rows) / 3600:.2f} h, '
                f'{len(skipped)} files skipped (skipped.tsv).\n\n'
                '| source | packages | languages | speakers | clips | minutes | licence | model may be shipped |\n'
                '|---|---|---|---:|---:|---:|---|---|\n')
        for s, (langs, spks, secs, clips) in by_src.items():
            pkgs, _, lic, ship = SOURCES[s]
            f.write(f'| {s} | {" ".join(pkgs)} | {len(langs)}: {" ".join(sorted(langs))} | {len(spks)} | {clips} | '
                    f'{secs / 60:.1f} | {lic} | {"yes" if ship else "no"} |\n')
        f.write('\n| lang | minutes | speakers (source, speaker) | sources |\n|---|---:|---:|---|\n')
        for lang, (secs, spks, srcs) in sorted(by_lang.items(), key=lambda kv: -kv[1][0]):
            f.write(f'| {lang} | {secs / 60:.1f} | {len(spks)} | {" ".join(sorted(srcs))} |\n')

    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    print(f'make_debian_corpus.py: {len(rec_rows)} recordings, {len(seg_rows)} clips, '
          f'{sum(r[4] for r in rec_rows) / 3600:.2f} h, {len(skipped)} files skipped -> {out}', file=sys.stderr)


if __name__ == '__main__':
    main()
