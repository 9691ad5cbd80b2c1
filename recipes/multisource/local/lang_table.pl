#!/usr/bin/perl
# Prints a markdown table per language of one or two all-utterance data directories (make_data.pl):
# minutes of speech (sum of utt2dur, i.e. the clips, without the gaps between utterances), speakers,
# and sources; with two directories (before, after) side by side, e.g. real-v1 alone and real-v1 +
# the Debian corpus.
#   lang_table.pl <all-dir> [<all-dir-after>]
use strict;
use warnings;
die "usage: lang_table.pl <all-dir> [<all-dir-after>]\n" unless @ARGV == 1 || @ARGV == 2;
sub Stats {
  my ($dir) = @_;
  my %m;
  for my $f (qw(utt2lang utt2spk utt2source utt2dur)) {
    open(my $fh, '<', "$dir/$f") or die "$dir/$f: cannot open: $!\n";
    while (<$fh>) { chomp; my ($k, $v) = split / /, $_, 2; $m{$f}{$k} = $v; }
  }
  my %s;
  for my $u (keys %{$m{utt2lang}}) {
    my $l = $m{utt2lang}{$u};
    $s{$l}{min} += $m{utt2dur}{$u} / 60;
    $s{$l}{spk}{$m{utt2spk}{$u}} = 1;
    $s{$l}{src}{$m{utt2source}{$u}} = 1;
  }
  return \%s;
}
my @st = map { Stats($_) } @ARGV;
my %langs = map { %$_ } @st;
my $two = @st == 2;
print $two ? "| lang | minutes before | minutes after | speakers before | speakers after | sources before | sources added |\n|---|---:|---:|---:|---:|---:|---|\n"
           : "| lang | minutes | speakers | sources |\n|---|---:|---:|---|\n";
my @tot = (0, 0);
my @multi = (0, 0);
for my $l (sort { ($st[-1]{$b}{min} // 0) <=> ($st[-1]{$a}{min} // 0) || $a cmp $b } keys %langs) {
  my @c = map { $_->{$l} // { min => 0, spk => {}, src => {} } } @st;
  $tot[$_] += $c[$_]{min} for 0 .. $#c;
  $multi[$_] += (keys %{$c[$_]{src}} >= 2) for 0 .. $#c;
  if ($two) {
    my @added = sort grep { !$c[0]{src}{$_} } keys %{$c[1]{src}};
    printf "| %s | %.1f | %.1f | %d | %d | %d: %s | %s |\n", $l, $c[0]{min}, $c[1]{min}, scalar(keys %{$c[0]{spk}}),
      scalar(keys %{$c[1]{spk}}), scalar(keys %{$c[0]{src}}), join(' ', sort keys %{$c[0]{src}}), join(' ', @added);
  } else {
    printf "| %s | %.1f | %d | %s |\n", $l, $c[0]{min}, scalar(keys %{$c[0]{spk}}), join(' ', sort keys %{$c[0]{src}});
  }
}
printf "\n%s languages with >= 2 sources, %s minutes in all.\n", join(' -> ', @multi[0 .. $#st]),
  join(' -> ', map { sprintf '%.0f', $_ } @tot[0 .. $#st]);
