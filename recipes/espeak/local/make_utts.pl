#!/usr/bin/perl
# Plans the utterances of one language: which sentences, voice variant, rate and pitch each gets.
#   make_utts.pl train <lang> <espeak-voice> <sentences> <cps175> <seed> <variants> \
#                <rate-min> <rate-max> <pitch-min> <pitch-max> <total-seconds> <utt-min-s> <utt-max-s>
#   make_utts.pl test  <lang> <espeak-voice> <sentences> <cps175> <seed> <variants> \
#                <rate-min> <rate-max> <pitch-min> <pitch-max> <utts-per-bucket>
# <cps175>: characters per second this language's espeak-ng voice speaks at rate 175 (local/calibrate.sh);
# text length for a target duration d at rate r is d * cps175 * r / 175.
# <variants>: space-separated espeak-ng variant names; utterance voice is "<espeak-voice>+<variant>".
# Test durations are drawn per bucket: 1.0-2.4 s, 4-9 s, 11-15 s (slid eval buckets: <=3, 3-10, >10 s).
# Prints tab-separated lines: utt-id, lang, speaker (lang-variant), variant, voice, rate, pitch,
# text, source sentences joined by " ||| " (for local/check_data.sh). Each sentence is used at most
# once per run of this script. Deterministic for a given seed.
use strict;
use warnings;
binmode STDOUT, ':encoding(UTF-8)';
my $mode = shift @ARGV // '';
die "make_utts.pl: first argument must be 'train' or 'test'\n" unless $mode eq 'train' || $mode eq 'test';
my ($lang, $voice, $sent_file, $cps175, $seed, $variants, $rmin, $rmax, $pmin, $pmax, @rest) = @ARGV;
die "make_utts.pl: wrong number of arguments\n"
  unless defined $pmax && (($mode eq 'train' && @rest == 3) || ($mode eq 'test' && @rest == 1));
die "make_utts.pl: cps175 must be positive\n" unless $cps175 > 0;
srand($seed);
open(my $fh, '<:encoding(UTF-8)', $sent_file) or die "$sent_file: cannot open: $!\n";
my @sent = grep { $_ ne '' } map { chomp; $_ } <$fh>;
close $fh;
# Fisher-Yates with the seeded rand, so the draw does not depend on the order of the catalogues.
for (my $i = $#sent; $i > 0; $i--) { my $j = int(rand($i + 1)); @sent[$i, $j] = @sent[$j, $i]; }
my @var = split ' ', $variants;
die "make_utts.pl: no variants\n" unless @var;
my $next = 0;
sub NextSentence {
  die "$sent_file: ran out of sentences for $lang ($next used)\n" if $next > $#sent;
  return $sent[$next++];
}
sub Uniform { my ($a, $b) = @_; return $a + rand($b - $a); }

# Builds a text of about $chars characters: whole sentences, the last one cut at a word boundary.
sub MakeText {
  my ($chars) = @_;
  my ($text, @src) = ('');
  while (length($text) < $chars) {
    my $s = NextSentence();
    push @src, $s;
    $s .= '.' unless $s =~ /[.!?…;:。]$/;
    my $room = $chars - length($text) - ($text eq '' ? 0 : 1);
    if (length($s) > $room) {
      my @w = split / /, $s;
      my $cut = '';
      for my $w (@w) {
        last if $cut ne '' && length($cut) + 1 + length($w) > $room;
        $cut = $cut eq '' ? $w : "$cut $w";
      }
      $s = $cut;
    }
    $text = $text eq '' ? $s : "$text $s";
    last if length($text) >= 0.9 * $chars;
  }
  return ($text, @src);
}

my @plan;  # [seconds target]
if ($mode eq 'train') {
  my ($total, $umin, $umax) = @rest;
  my $sum = 0;
  while ($sum < $total) { my $d = Uniform($umin, $umax); push @plan, $d; $sum += $d; }
} else {
  my ($per_bucket) = @rest;
  for my $b ([1.0, 2.4], [4, 9], [11, 15]) {
    push @plan, Uniform(@$b) for 1 .. $per_bucket;
  }
}
my %count;
my $tag = $mode eq 'train' ? 'tr' : 'te';
for my $i (0 .. $#plan) {
  my $variant = $var[$i % @var];
  my $rate = int(Uniform($rmin, $rmax + 1));
  my $pitch = int(Uniform($pmin, $pmax + 1));
  my $chars = int($plan[$i] * $cps175 * $rate / 175 + 0.5);
  $chars = 4 if $chars < 4;
  my ($text, @src) = MakeText($chars);
  my $spk = "$lang-$variant";
  my $utt = sprintf('%s-%s%04d', $spk, $tag, ++$count{$spk});
  print join("\t", $utt, $lang, $spk, $variant, "$voice+$variant", $rate, $pitch, $text, join(' ||| ', @src)), "\n";
}
