#!/usr/bin/perl
# One table over evaluation runs: accuracy overall, per duration bucket, and per language on the
# utterances longer than 3 s (the issue's target: averaged over languages, none below 50 %).
#   summary.pl <label>=<scores.tsv>=<data-dir> ...   > summary.md
# <scores.tsv>: slid eval's (columns utterance, truth, language, ..., status) or local/peer.py's
# (utt, lang, decided). Durations come from <data-dir>/utt2dur. An utterance slid did not score
# (too little speech, unreadable) counts as an error here, so that slid and the peer are compared on
# the same utterances.
use strict;
use warnings;
die "usage: summary.pl <label>=<scores.tsv>=<data-dir> ...\n" unless @ARGV;
my (@rows, %lang_acc, %langs_of);
for my $arg (@ARGV) {
  my ($label, $scores, $dir) = split /=/, $arg, 3;
  die "summary.pl: bad argument '$arg'\n" unless defined $dir;
  my %dur;
  open(my $d, '<', "$dir/utt2dur") or die "$dir/utt2dur: cannot open: $!\n";
  while (<$d>) { my ($u, $s) = split; $dur{$u} = $s; }
  open(my $fh, '<', $scores) or die "$scores: cannot open: $!\n";
  my @h = split /\t/, scalar(<$fh>) =~ s/\r?\n$//r;
  my %col; @col{@h} = 0 .. $#h;
  my ($cu, $ct, $cd) = exists $col{utterance} ? @col{qw(utterance truth language)} : @col{qw(utt lang decided)};
  my $cs = $col{status};
  my (%n, %ok, %ln, %lok);
  while (my $l = <$fh>) {
    chomp $l;
    my @f = split /\t/, $l;
    my ($u, $t, $dec) = @f[$cu, $ct, $cd];
    die "$scores: utterance $u has no duration in $dir/utt2dur\n" unless defined $dur{$u};
    my $right = ($dec eq $t && (!defined $cs || $f[$cs] eq 'ok')) ? 1 : 0;
    my $s = $dur{$u};
    my $b = $s <= 3 ? 'le3' : $s <= 10 ? '3to10' : 'gt10';
    for my $k ('all', $b, $s > 3 ? 'gt3' : ()) { $n{$k}++; $ok{$k} += $right; }
    if ($s > 3) { $ln{$t}++; $lok{$t} += $right; }
  }
  my @l = sort keys %ln;
  my %acc = map { $_ => 100 * $lok{$_} / $ln{$_} } @l;
  my $mean = @l ? (eval { my $x = 0; $x += $_ for values %acc; $x }) / @l : 0;
  my ($min) = sort { $acc{$a} <=> $acc{$b} || $a cmp $b } @l;
  my $pct = sub { my $k = shift; $n{$k} ? sprintf('%.1f %% (%d)', 100 * ($ok{$k} // 0) / $n{$k}, $n{$k}) : 'n/a' };
  push @rows, sprintf("| %s | %s | %s | %s | %s | %s | **%.1f %%** | %s |", $label, $pct->('all'), $pct->('le3'),
    $pct->('3to10'), $pct->('gt10'), $pct->('gt3'), $mean, defined $min ? sprintf('%s %.1f %%', $min, $acc{$min}) : 'n/a');
  $lang_acc{$label} = \%acc;
  $langs_of{$_} = 1 for @l;
}
print "| run | accuracy, all (n) | <=3 s | 3-10 s | >10 s | >3 s | >3 s, mean over languages | worst language (>3 s) |\n";
print "|---|---:|---:|---:|---:|---:|---:|---|\n";
print "$_\n" for @rows;
print "\nPer language, accuracy on utterances longer than 3 s:\n\n";
my @labels = map { (split /=/, $_)[0] } @ARGV;
print "| language | " . join(' | ', @labels) . " |\n|---|" . ('---:|' x @labels) . "\n";
for my $l (sort keys %langs_of) {
  print "| $l | " . join(' | ', map { defined $lang_acc{$_}{$l} ? sprintf('%.1f', $lang_acc{$_}{$l}) : '' } @labels) . " |\n";
}
