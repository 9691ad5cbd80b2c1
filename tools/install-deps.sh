#!/usr/bin/env bash
# Installs everything slid needs from Debian 12 packages. Run as root (or with sudo).
#   tools/install-deps.sh            build + test dependencies
#   tools/install-deps.sh --recipes  also the corpora and plotting used by recipes/
#   tools/install-deps.sh --refs     also the Python references that regenerate tests/data fixtures
set -euo pipefail
want_recipes=0; want_refs=0
for a in "$@"; do
  case "$a" in
    --recipes) want_recipes=1 ;;
    --refs) want_refs=1 ;;
    *) echo "install-deps.sh: unknown option '$a'" >&2; exit 2 ;;
  esac
done
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
pkgs=(cmake g++ make pkg-config
      libeigen3-dev libkissfft-dev libsndfile1-dev nlohmann-json3-dev doctest-dev
      libsoxr-dev libcli11-dev
      clang libclang-rt-14-dev libomp-dev  # sanitizer and libFuzzer builds (libomp: OpenMP for clang)
      espeak-ng sox gnuplot-nox  # tiny generated corpora in tests, plots in reports
      locales)                   # tests/cli/locale.sh compiles de_DE.UTF-8 from its sources (localedef)
pkgs+=(python3-dev pybind11-dev python3-numpy python3-pytest)  # Python bindings (python/) and their tests
pkgs+=(libopenmpi-dev openmpi-bin)  # optional: `mpirun -np N slid train` and its test (tests/mpi); ~1.5 min to install
[ "$want_recipes" = 1 ] && pkgs+=(perl   # recipes/*/local: Digest::MD5 and Encode live in libperl, not perl-base
      asterisk-core-sounds-en-wav asterisk-core-sounds-es-wav asterisk-core-sounds-fr-wav
      asterisk-core-sounds-it-wav asterisk-core-sounds-ru-wav asterisk-prompt-fr-armelle asterisk-prompt-es-co
      asterisk-prompt-it-menardi-wav                     # recipes/asterisk: real telephone speech
      coreutils grep sed tar findutils bash dpkg apt libc-l10n gettext diffutils wget make gnupg-l10n
      binutils-common man-db login libglib2.0-data libgtk2.0-common psmisc  # recipes/espeak: translated messages (.mo) = sentences
      python3-soundfile python3-torchaudio python3-sklearn python3-numpy  # recipes/multisource: Opus decoding in Python, the Python peer
      libopenblas0-pthread  # numpy/scikit-learn on OpenBLAS instead of the reference BLAS: the peer and the trials ~5x faster
      tuxpaint-stamps-default fillets-ng-data-cs fillets-ng-data-nl festvox-ru gcin-voice klettres-data
      ktuberling-data)  # recipes/multisource/local/make_debian_corpus.py: recorded speech (and the asterisk packs above)
[ "$want_refs" = 1 ] && pkgs+=(python3-torchaudio python3-sklearn python3-numpy)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
