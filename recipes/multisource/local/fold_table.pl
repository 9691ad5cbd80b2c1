#!/usr/bin/perl
# Prints the cross-source folds of a protocol data directory (make_sets.pl) as markdown: one row per
# language of the folds, one column per fold; a cell names the source(s) tested in that fold for that
# language and, in brackets, the training minutes left for it (xs<k>_train, after the caps) and the
# number of training sources; "-" where the language is not tested in that fold. Then one line per
# fold: held-out sources, test utterances, training minutes.
#   fold_table.pl <data-dir>
use strict;
use warnings;
die "usage: fold_table.pl <data-dir>\n" unless @ARGV == 1;
my ($data) = @ARGV;
sub ReadMap {
  my ($path) = @_;
  open(my $fh, '<', $path) or die "$path: cannot open: $!\n";
  my %m;
  while (my $l = <$fh>) { chomp $l; my ($k, $v) = split / /, $l, 2; $m{$k} = $v; }
  return \%m;
}
open(my $ff, '<', "$data/folds.txt") or die "$data/folds.txt: cannot open: $!\n";
my (@folds, %cell, %langs, @summary);
while (my $l = <$ff>) {
  chomp $l;
  my ($name, $held) = $l =~ /^(\S+) (.*?) \|/ or die "$data/folds.txt: malformed line '$l'\n";
  push @folds, $name;
  my %s;
  for my $set ('train', 'test') {
    my $dir = "$data/${name}_$set";
    my ($lang, $src, $dur) = map { ReadMap("$dir/$_") } qw(utt2lang utt2source utt2dur);
    for my $u (keys %$lang) {
      $s{$set}{$lang->{$u}}{min} += $dur->{$u} / 60;
      $s{$set}{$lang->{$u}}{src}{$src->{$u}} = 1;
      $s{$set}{n}++ if $set eq 'test';
      $s{$set}{total} += $dur->{$u} / 60;
    }
  }
  for my $lg (keys %{$s{test}}) {
    next if $lg eq 'n' || $lg eq 'total';
    $langs{$lg} = 1;
    my $tr = $s{train}{$lg};
    $cell{$lg}{$name} = sprintf('%s (%.0f min, %d src)', join(' ', sort keys %{$s{test}{$lg}{src}}),
      $tr ? $tr->{min} : 0, $tr ? scalar(keys %{$tr->{src}}) : 0);
  }
  push @summary, sprintf('- %s: held out %s; %d test utterances; %.0f training minutes', $name, $held,
    $s{test}{n} // 0, $s{train}{total} // 0);
}
print '| lang | ' . join(' | ', @folds) . " |\n|---|" . ('---|' x @folds) . "\n";
for my $lg (sort keys %langs) {
  print "| $lg | " . join(' | ', map { $cell{$lg}{$_} // '-' } @folds) . " |\n";
}
print "\n", join("\n", @summary), "\n";
