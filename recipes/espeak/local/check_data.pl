#!/usr/bin/perl
# Checks the synthesised corpus and fails loudly (exit 1, one line per problem) if it is not what
# the recipe promises.
#   check_data.pl <train-dir> <test-dir> <min-languages> <min-train-seconds-per-lang> <min-test-utts-per-bucket>
# Checks: every wav.scp file exists and is a 16 kHz mono 16-bit WAV whose length matches utt2dur;
# train and test hold the same languages, at least <min-languages>; each language has at least
# <min-train-seconds-per-lang> seconds of training speech and <min-test-utts-per-bucket> test
# utterances in each duration bucket (<=3 s, 3-10 s, >10 s); no espeak-ng voice variant occurs in
# both train and test; no source sentence occurs in both; no test text of 5 or more words occurs
# inside a training text of the same language. Prints a per-language table on success.
use strict;
use warnings;
binmode STDOUT, ':encoding(UTF-8)';
die "usage: check_data.pl <train-dir> <test-dir> <min-languages> <min-train-s> <min-test-per-bucket>\n" unless @ARGV == 5;
my ($trdir, $tedir, $min_langs, $min_train_s, $min_bucket) = @ARGV;
my @problems;

sub ReadMap {  # "<key> <rest>" lines -> hash
  my ($path, $tab) = @_;
  open(my $fh, '<:encoding(UTF-8)', $path) or die "$path: cannot open: $!\n";
  my %m;
  while (my $l = <$fh>) {
    chomp $l;
    my ($k, $v) = $tab ? split(/\t/, $l, 2) : split(/ /, $l, 2);
    die "$path: malformed line '$l'\n" unless defined $v;
    die "$path: duplicate key '$k'\n" if exists $m{$k};
    $m{$k} = $v;
  }
  return \%m;
}

sub WavInfo {  # (rate, channels, bits, seconds) from a RIFF/WAVE header
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
      return ($rate, $ch, $bits, $len / ($rate * $ch * $bits / 8));
    } else {
      seek($fh, $len + ($len & 1), 1);
    }
  }
  return;
}

my (%set, %lang_secs, %lang_bucket, %variants, %sources, %texts);
for my $side ([train => $trdir], [test => $tedir]) {
  my ($name, $dir) = @$side;
  my $wav = ReadMap("$dir/wav.scp");
  my $u2l = ReadMap("$dir/utt2lang");
  my $u2d = ReadMap("$dir/utt2dur");
  my $u2v = ReadMap("$dir/utt2voice");
  my $u2s = ReadMap("$dir/utt2sources", 1);
  my $txt = ReadMap("$dir/text");
  push @problems, "$dir: empty" unless %$wav;
  for my $utt (sort keys %$wav) {
    my $lang = $u2l->{$utt};
    unless (defined $lang && defined $u2d->{$utt} && defined $u2v->{$utt} && defined $u2s->{$utt}) {
      push @problems, "$dir: $utt lacks utt2lang/utt2dur/utt2voice/utt2sources"; next;
    }
    my ($rate, $ch, $bits, $secs) = WavInfo($wav->{$utt});
    if (!defined $rate) { push @problems, "$wav->{$utt}: missing or not a WAV file"; next; }
    push @problems, "$wav->{$utt}: $rate Hz, $ch channels, $bits bits; expected 16000 Hz mono 16 bits"
      unless $rate == 16000 && $ch == 1 && $bits == 16;
    push @problems, "$wav->{$utt}: $secs s but utt2dur says $u2d->{$utt}" if abs($secs - $u2d->{$utt}) > 0.01;
    $set{$name}{$lang}++;
    if ($name eq 'train') {
      $lang_secs{$lang} += $secs;
    } else {
      my $b = $secs <= 3 ? 0 : $secs <= 10 ? 1 : 2;
      $lang_bucket{$lang}[$b]++;
    }
    my ($voice) = split / /, $u2v->{$utt};
    my ($variant) = $voice =~ /\+(.+)$/ or push @problems, "$dir: $utt: voice '$voice' has no variant";
    $variants{$name}{$variant}{$lang}++ if defined $variant;
    for my $s (split / \|\|\| /, $u2s->{$utt}) {
      (my $k = lc $s) =~ s/[^\p{L}]+/ /g;
      $sources{$name}{$lang}{$k} = $utt;
    }
    push @{$texts{$name}{$lang}}, $txt->{$utt};
  }
}
my @langs = sort keys %{$set{train} // {}};
my @test_langs = sort keys %{$set{test} // {}};
push @problems, "train languages (@langs) differ from test languages (@test_langs)" unless "@langs" eq "@test_langs";
push @problems, scalar(@langs) . " languages, fewer than $min_langs" if @langs < $min_langs;
for my $v (sort keys %{$variants{train}}) {
  push @problems, "voice variant '$v' is in both train and test" if $variants{test}{$v};
}
for my $lang (@langs) {
  push @problems, sprintf('%s: %.0f s of training speech, fewer than %d', $lang, $lang_secs{$lang} // 0, $min_train_s)
    if ($lang_secs{$lang} // 0) < $min_train_s;
  for my $b (0 .. 2) {
    my $n = $lang_bucket{$lang}[$b] // 0;
    push @problems, "$lang: $n test utterances in duration bucket " . ('<=3 s', '3-10 s', '>10 s')[$b] . ", fewer than $min_bucket"
      if $n < $min_bucket;
  }
  for my $k (keys %{$sources{test}{$lang} // {}}) {
    push @problems, "$lang: sentence '$k' used by test $sources{test}{$lang}{$k} and train $sources{train}{$lang}{$k}"
      if exists $sources{train}{$lang}{$k};
  }
  my $train_text = lc join(' ', @{$texts{train}{$lang} // []});
  for my $t (@{$texts{test}{$lang} // []}) {
    my @w = split / /, $t;
    push @problems, "$lang: test text '$t' occurs inside the training text" if @w >= 5 && index($train_text, lc $t) >= 0;
  }
}
if (@problems) {
  print STDERR "check_data.pl: $_\n" for @problems[0 .. ($#problems < 49 ? $#problems : 49)];
  print STDERR "check_data.pl: " . scalar(@problems) . " problems\n";
  exit 1;
}
printf "%-5s %10s %10s %8s %8s %8s\n", 'lang', 'train-utts', 'train-min', 'test<=3', 'test3-10', 'test>10';
for my $lang (@langs) {
  printf "%-5s %10d %10.1f %8d %8d %8d\n", $lang, $set{train}{$lang}, $lang_secs{$lang} / 60,
    map { $lang_bucket{$lang}[$_] // 0 } 0 .. 2;
}
my @tv = sort keys %{$variants{train}}; my @ev = sort keys %{$variants{test}};
print "OK: " . scalar(@langs) . " languages; train variants [@tv], test variants [@ev] are disjoint; source sentences disjoint.\n";
