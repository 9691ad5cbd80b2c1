#!/usr/bin/perl
# Builds the evaluation protocol's data directories from the all-utterance directory of make_data.pl.
#   make_sets.pl <all-dir> <test-speaker-percent> <test-recording-percent> <max-train-minutes>
#                <max-test-utts> <out-dir> [<max-held-out-sources-per-language> [<min-source-minutes>]]
# Every random choice is an MD5 of a name, so a rerun gives the same sets.
# Caps (0 = none), applied last, per (language, source) in every set: training sets keep at most
# <max-train-minutes> of audio, test sets at most <max-test-utts> utterances; both take utterances in
# MD5 order, one speaker after another in turn, so every speaker keeps a share.
#
# Within-source model (every language, every source):
#   train       every (source, lang) minus its held-out speakers and held-out recordings
#   test_spk    (a) held-out speakers: in every (source, lang) with >= 2 speakers, the speakers whose
#               MD5(speaker id) mod 100 < <test-speaker-percent> (at least one, never all; none if 0)
#   test_rec    (c) held-out recordings of training speakers: MD5(recording id) mod 100 < <test-recording-percent>
#               (same speakers, recordings never heard; the plain within-source condition)
# Cross-source (b), on the closed set L of languages with >= 2 sources: sources are grouped into folds
# so that no language loses all its sources in one fold (greedy, sources with most languages first:
# a source joins the first fold where this holds) and, if <max-held-out-sources-per-language> is > 0
# (default 0 = no limit), no language has more than that many sources held out in one fold (1 = true
# leave-one-source-out for every language: more folds, each training on every source but one per
# language). A (language, source) pair with less than <min-source-minutes> of audio (default 0) does
# not count as a source of that language for the folds (a few seconds of one voice make neither a
# training set nor a test); its utterances stay in the within-source sets and in the xs<k>_train of
# the folds that do not hold its source out (in the fold that does, they are left out: the held-out
# source is heard in no language of that fold's training set);
#   xs<k>_train  every utterance (all speakers) of the L languages from the sources NOT held out in fold k
#   xs<k>_test   every utterance of the L languages from the sources held out in fold k
# One-speaker-per-language baseline: <set>_1spk for train and each xs<k>_train keeps, per language, only
#   the speaker with the most audio in that set (ties: smaller id).
# Also writes <out-dir>/folds.txt ("<fold> <held-out sources> | <languages>") and sets.txt.
use strict;
use warnings;
use Digest::MD5 qw(md5);
die "usage: make_sets.pl <all-dir> <test-speaker-percent> <test-recording-percent> <max-train-minutes> <max-test-utts> <out-dir> [<max-held-out-sources-per-language> [<min-source-minutes>]]\n"
  unless @ARGV >= 6 && @ARGV <= 8;
my ($all, $spk_pct, $rec_pct, $max_train_min, $max_test_utts, $out, $max_held, $min_src_min) = @ARGV;
$max_held //= 0;
$min_src_min //= 0;
die "make_sets.pl: min-source-minutes must be a number >= 0, got '$min_src_min'\n" unless $min_src_min =~ /^\d+(\.\d+)?$/;
for ($max_train_min, $max_test_utts) { die "make_sets.pl: caps must be numbers >= 0\n" unless /^\d+(\.\d+)?$/; }
die "make_sets.pl: max-held-out-sources-per-language must be an integer >= 0, got '$max_held'\n" unless $max_held =~ /^\d+$/;
for ($spk_pct, $rec_pct) { die "make_sets.pl: percentages must be in 0..99\n" unless /^\d+$/ && $_ <= 99; }
sub Hash { return unpack('N', md5($_[0])) % 100; }
use FindBin;
use lib $FindBin::Bin;
use KaldiTable qw(ReadMap);
my %m = map { $_ => ReadMap("$all/$_") } qw(wav.scp segments utt2lang utt2spk utt2source utt2dur utt2clips utt2rec);
my @utts = sort keys %{$m{segments}};
die "$all: no utterances\n" unless @utts;
for my $u (@utts) {
  for my $f (qw(utt2lang utt2spk utt2source utt2dur utt2clips utt2rec)) {
    die "$all/$f: no entry for utterance $u\n" unless defined $m{$f}{$u};
  }
}

# --- within-source splits
my (%spk_of, %src_lang_spks);
for my $u (@utts) {
  my $key = "$m{utt2source}{$u} $m{utt2lang}{$u}";
  $src_lang_spks{$key}{$m{utt2spk}{$u}} = 1;
}
my %test_spk;
for my $key (sort keys %src_lang_spks) {
  my @s = sort keys %{$src_lang_spks{$key}};
  next if @s < 2 || $spk_pct == 0;
  my @held = grep { Hash($_) < $spk_pct } @s;
  @held = ((sort { Hash($a) <=> Hash($b) || $a cmp $b } @s)[0]) unless @held;   # at least one
  @held = @held[0 .. $#s - 1] if @held == @s;                                       # never all
  $test_spk{$_} = 1 for @held;
}
my %sets;
for my $u (@utts) {
  if ($test_spk{$m{utt2spk}{$u}}) { push @{$sets{test_spk}}, $u; next; }
  push @{$sets{Hash($m{utt2rec}{$u}) < $rec_pct ? 'test_rec' : 'train'}}, $u;
}
for my $s ('train', 'test_spk', 'test_rec') { $sets{$s} //= []; }

# --- cross-source folds
my (%lang_srcs, %lang_src_min);
$lang_src_min{$m{utt2lang}{$_}}{$m{utt2source}{$_}} += $m{utt2dur}{$_} / 60 for @utts;
for my $l (keys %lang_src_min) {
  for my $s (keys %{$lang_src_min{$l}}) {
    $lang_srcs{$l}{$s} = 1 if $lang_src_min{$l}{$s} >= $min_src_min;
  }
}
my @xl = sort grep { keys %{$lang_srcs{$_}} >= 2 } keys %lang_srcs;
my %xl = map { $_ => 1 } @xl;
my %src_langs;
for my $l (@xl) { $src_langs{$_}{$l} = 1 for keys %{$lang_srcs{$l}}; }
my @folds;   # each: { held => {source => 1} }
for my $s (sort { keys %{$src_langs{$b}} <=> keys %{$src_langs{$a}} || $a cmp $b } keys %src_langs) {
  my $placed = 0;
  for my $f (@folds) {
    my $ok = 1;
    for my $l (keys %{$src_langs{$s}}) {   # would some language lose its last training source?
      my @left = grep { $_ ne $s && !$f->{held}{$_} } keys %{$lang_srcs{$l}};
      $ok = 0 unless @left;
      my $held = grep { $f->{held}{$_} } keys %{$lang_srcs{$l}};   # or have too many held out?
      $ok = 0 if $max_held > 0 && $held + 1 > $max_held;
    }
    if ($ok) { $f->{held}{$s} = 1; $placed = 1; last; }
  }
  push @folds, { held => { $s => 1 } } unless $placed;
}
open(my $ff, '>', "$out/folds.txt") or die "$out/folds.txt: cannot write: $!\n";
for my $k (0 .. $#folds) {
  my $f = $folds[$k];
  my $name = 'xs' . ($k + 1);
  for my $u (@utts) {
    my ($l, $s) = ($m{utt2lang}{$u}, $m{utt2source}{$u});
    next unless $xl{$l};
    if ($f->{held}{$s}) {
      # a pair under <min-source-minutes> is neither tested nor trained on in the fold holding its source out
      push @{$sets{"${name}_test"}}, $u if $lang_srcs{$l}{$s};
      next;
    }
    push @{$sets{"${name}_train"}}, $u;
  }
  print $ff "$name " . join(' ', sort keys %{$f->{held}}) . " | @xl\n";
}
close $ff;

# --- one-speaker-per-language baselines
for my $set ('train', map { 'xs' . $_ . '_train' } 1 .. @folds) {
  my %secs;
  $secs{$m{utt2lang}{$_}}{$m{utt2spk}{$_}} += $m{utt2dur}{$_} for @{$sets{$set}};
  my %keep;
  for my $l (keys %secs) {
    my ($best) = sort { $secs{$l}{$b} <=> $secs{$l}{$a} || $a cmp $b } keys %{$secs{$l}};
    $keep{$best} = 1;
  }
  $sets{"${set}_1spk"} = [grep { $keep{$m{utt2spk}{$_}} } @{$sets{$set}}];
}

# --- caps
sub Cap {
  my ($utts, $limit, $by_secs) = @_;
  my (%groups, @out);
  for my $u (sort { Hash("c$a") <=> Hash("c$b") || $a cmp $b } @$utts) {
    push @{$groups{"$m{utt2lang}{$u} $m{utt2source}{$u}"}{$m{utt2spk}{$u}}}, $u;
  }
  for my $g (sort keys %groups) {
    my @spks = sort keys %{$groups{$g}};
    my ($used, $i) = (0, 0);
    while ($used < $limit) {
      my @left = grep { @{$groups{$g}{$_}} } @spks;
      last unless @left;
      my $u = shift @{$groups{$g}{$left[$i++ % @left]}};
      push @out, $u;
      $used += $by_secs ? $m{utt2dur}{$u} / 60 : 1;
    }
  }
  return [sort @out];
}
for my $set (keys %sets) {
  if ($set =~ /train/ && $max_train_min > 0) { $sets{$set} = Cap($sets{$set}, $max_train_min, 1); }
  if ($set =~ /test/ && $max_test_utts > 0) { $sets{$set} = Cap($sets{$set}, $max_test_utts, 0); }
}

# --- write
open(my $sf, '>', "$out/sets.txt") or die "$out/sets.txt: cannot write: $!\n";
for my $set (sort keys %sets) {
  my $dir = "$out/$set";
  mkdir $dir or die "$dir: cannot create: $!\n" unless -d $dir;
  my %fh;
  for my $f (qw(wav.scp segments utt2lang utt2spk utt2source utt2dur utt2clips utt2rec spk2utt)) {
    open($fh{$f}, '>:encoding(UTF-8)', "$dir/$f") or die "$dir/$f: cannot write: $!\n";
  }
  my (%recs, %s2u, %langs); my $secs = 0;
  for my $u (@{$sets{$set}}) {
    print { $fh{$_} } "$u $m{$_}{$u}\n" for qw(segments utt2lang utt2spk utt2source utt2dur utt2clips utt2rec);
    $recs{(split / /, $m{segments}{$u})[0]} = 1;
    push @{$s2u{$m{utt2spk}{$u}}}, $u;
    $langs{$m{utt2lang}{$u}} = 1;
    $secs += $m{utt2dur}{$u};
  }
  for my $r (sort keys %recs) {
    die "$all/wav.scp: no recording $r\n" unless defined $m{'wav.scp'}{$r};
    print { $fh{'wav.scp'} } "$r $m{'wav.scp'}{$r}\n";
  }
  print { $fh{spk2utt} } "$_ @{$s2u{$_}}\n" for sort keys %s2u;
  close $_ or die "$dir: write failed: $!\n" for values %fh;
  printf $sf "%-16s %6d utts %7.1f min %3d speakers %2d languages\n", $set, scalar @{$sets{$set}}, $secs / 60,
    scalar(keys %s2u), scalar(keys %langs);
}
close $sf;
