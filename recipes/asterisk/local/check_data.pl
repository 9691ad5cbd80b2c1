#!/usr/bin/perl
# Checks the asterisk data directories and fails loudly (exit 1) if they break the recipe's promises.
#   check_data.pl <data-dir> <min-train-minutes-per-lang> <min-test-utts-per-lang>
# Checks: every file exists and is an 8 kHz mono WAV of the length in utt2dur; no WAV file is in
# two sets; no test_unseen_* speaker occurs in train; no prompt of test_same_speaker or
# test_unseen_speaker_prompt occurs in train; training has every language with at least the given
# minutes; each test set has at least the given number of utterances per language it covers.
# Prints a table of utterances and minutes per set and language on success.
use strict;
use warnings;
die "usage: check_data.pl <data-dir> <min-train-minutes> <min-test-utts>\n" unless @ARGV == 3;
my ($dir, $min_train_min, $min_test) = @ARGV;
my @sets = qw(train test_same_speaker test_unseen_speaker test_unseen_speaker_prompt);
my (@problems, %d, %path_set);

sub ReadMap {
  my ($path) = @_;
  open(my $fh, '<', $path) or die "$path: cannot open: $!\n";
  my %m;
  while (my $l = <$fh>) {
    chomp $l;
    my ($k, $v) = split / /, $l, 2;
    die "$path: malformed line '$l'\n" unless defined $v;
    die "$path: duplicate key '$k'\n" if exists $m{$k};
    $m{$k} = $v;
  }
  return \%m;
}

sub WavInfo {  # (rate, channels, seconds) from a RIFF/WAVE header
  my ($path) = @_;
  open(my $fh, '<:raw', $path) or return;
  my $hdr;
  read($fh, $hdr, 12) == 12 or return;
  return unless substr($hdr, 0, 4) eq 'RIFF' && substr($hdr, 8, 4) eq 'WAVE';
  my ($rate, $ch, $bits);
  while (read($fh, $hdr, 8) == 8) {
    my ($id, $len) = unpack('a4 V', $hdr);
    if ($id eq 'fmt ') {
      my $fmt; read($fh, $fmt, $len);
      (undef, $ch, $rate, undef, undef, $bits) = unpack('v v V V v v', $fmt);
    } elsif ($id eq 'data') {
      return unless $rate && $ch && $bits;
      return ($rate, $ch, $len / ($rate * $ch * $bits / 8));
    } else {
      seek($fh, $len + ($len & 1), 1);
    }
  }
  return;
}

for my $set (@sets) {
  my %m = map { $_ => ReadMap("$dir/$set/$_") } qw(wav.scp utt2lang utt2spk utt2dur utt2prompt);
  push @problems, "$dir/$set: empty" unless %{$m{'wav.scp'}};
  for my $utt (sort keys %{$m{'wav.scp'}}) {
    my $wav = $m{'wav.scp'}{$utt};
    my ($lang, $spk, $secs, $prompt) = map { $m{$_}{$utt} } qw(utt2lang utt2spk utt2dur utt2prompt);
    unless (defined $lang && defined $spk && defined $secs && defined $prompt) {
      push @problems, "$dir/$set: $utt lacks utt2lang/utt2spk/utt2dur/utt2prompt"; next;
    }
    my ($rate, $ch, $len) = WavInfo($wav);
    if (!defined $rate) { push @problems, "$wav: missing or not a WAV file"; next; }
    push @problems, "$wav: $rate Hz, $ch channels; expected 8000 Hz mono" unless $rate == 8000 && $ch == 1;
    push @problems, "$wav: $len s but utt2dur says $secs" if abs($len - $secs) > 0.01;
    my $other = $path_set{$wav};
    push @problems, "$wav: in $other and in $set"
      if defined $other && $other ne $set && !($other eq 'test_unseen_speaker' && $set eq 'test_unseen_speaker_prompt');
    $path_set{$wav} //= $set;
    $d{$set}{spk}{$spk} = 1;
    $d{$set}{prompt}{$prompt} = 1;
    $d{$set}{n}{$lang}++;
    $d{$set}{secs}{$lang} += $secs;
  }
}
for my $set (qw(test_unseen_speaker test_unseen_speaker_prompt)) {
  push @problems, "speaker $_ is in train and in $set" for grep { $d{train}{spk}{$_} } sort keys %{$d{$set}{spk}};
}
for my $set (qw(test_same_speaker test_unseen_speaker_prompt)) {
  push @problems, "prompt '$_' is in train and in $set" for grep { $d{train}{prompt}{$_} } sort keys %{$d{$set}{prompt}};
}
for my $lang (sort keys %{$d{train}{n}}) {
  push @problems, sprintf('train: %s has %.1f minutes, fewer than %s', $lang, $d{train}{secs}{$lang} / 60, $min_train_min)
    if $d{train}{secs}{$lang} / 60 < $min_train_min;
}
for my $set (grep { /^test/ } @sets) {
  for my $lang (sort keys %{$d{$set}{n}}) {
    push @problems, "$set: $lang has $d{$set}{n}{$lang} utterances, fewer than $min_test" if $d{$set}{n}{$lang} < $min_test;
    push @problems, "$set: language $lang is not in train" unless $d{train}{n}{$lang};
  }
}
if (@problems) {
  print STDERR "check_data.pl: $_\n" for @problems[0 .. ($#problems < 49 ? $#problems : 49)];
  print STDERR "check_data.pl: " . scalar(@problems) . " problems\n";
  exit 1;
}
printf "%-28s %-5s %6s %8s  %s\n", 'set', 'lang', 'utts', 'minutes', 'speakers';
for my $set (@sets) {
  for my $lang (sort keys %{$d{$set}{n}}) {
    printf "%-28s %-5s %6d %8.1f\n", $set, $lang, $d{$set}{n}{$lang}, $d{$set}{secs}{$lang} / 60;
  }
  printf "%-28s %-5s %6s %8s  %s\n", '', '', '', '', join(' ', sort keys %{$d{$set}{spk}});
}
print "OK: test_unseen_* speakers are not in train; held-out prompts are not in train; no file is in two sets.\n";
