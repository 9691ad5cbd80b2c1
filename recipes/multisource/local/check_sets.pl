#!/usr/bin/perl
# Checks the protocol's data directories and fails (exit 1, one line per problem) on any leak.
#   check_sets.pl <data-dir>
# For each model's training set and each of its test sets (train: test_spk, test_rec; xs<k>_train:
# xs<k>_test; the _1spk baselines likewise):
#   - no original clip (utt2clips) and no recording in both training and test;
#   - test_spk: no speaker in both training and test (speaker-disjoint);
#   - xs<k>: no (language, source) pair in both training and test (the tested source is unheard in that
#     language), and the training set holds every tested language;
#   - every set non-empty, every utterance has segments/utt2lang/utt2spk/utt2source/utt2clips entries,
#     each segment lies inside [0, recording duration]: end > start >= 0.
# Prints the pairs checked on success.
use strict;
use warnings;
die "usage: check_sets.pl <data-dir>\n" unless @ARGV == 1;
my ($data) = @ARGV;
my @problems;
use FindBin;
use lib $FindBin::Bin;
use KaldiTable qw(ReadMap);
my %cache;
sub Set {
  my ($name) = @_;
  return $cache{$name} if $cache{$name};
  my $dir = "$data/$name";
  my %s = map { $_ => ReadMap("$dir/$_") } qw(segments utt2lang utt2spk utt2source utt2clips);
  push @problems, "$dir: empty" unless %{$s{segments}};
  for my $u (keys %{$s{segments}}) {
    for my $f (qw(utt2lang utt2spk utt2source utt2clips)) {
      push @problems, "$dir/$f: no entry for $u" unless defined $s{$f}{$u};
    }
    my (undef, $a, $b) = split / /, $s{segments}{$u};
    push @problems, "$dir/segments: $u: bad time range $a..$b" unless $a >= 0 && $b > $a;
  }
  return $cache{$name} = \%s;
}
sub Index {   # value -> first utterance, over the utterances of a set
  my ($s, $what) = @_;
  my %ix;
  for my $u (keys %{$s->{segments}}) {
    my @v = $what eq 'clips' ? split(/ /, $s->{utt2clips}{$u})
          : $what eq 'rec' ? ((split / /, $s->{segments}{$u})[0])
          : $what eq 'spk' ? ($s->{utt2spk}{$u})
          : ("$s->{utt2lang}{$u}/$s->{utt2source}{$u}");
    $ix{$_} //= $u for @v;
  }
  return \%ix;
}
my @pairs;
opendir(my $dh, $data) or die "$data: cannot open: $!\n";
my @dirs = sort grep { -f "$data/$_/segments" } readdir $dh;
for my $tr (grep { /^(train|xs\d+_train)(_1spk)?$/ } @dirs) {
  (my $base = $tr) =~ s/_1spk$//;
  my @tests = $base eq 'train' ? ('test_spk', 'test_rec') : ($base =~ s/_train$/_test/r);
  for my $te (@tests) {
    die "$data/$te: missing (needed beside $tr)\n" unless -d "$data/$te";
    push @pairs, "$tr/$te";
    my ($a, $b) = (Set($tr), Set($te));
    my @kinds = ('clips', 'rec');
    push @kinds, 'spk' if $te eq 'test_spk';
    push @kinds, 'langsrc' if $te =~ /^xs/;
    for my $k (@kinds) {
      my ($ia, $ib) = (Index($a, $k), Index($b, $k));
      my $n = 0;
      for my $v (sort keys %$ib) {
        next unless exists $ia->{$v};
        push @problems, "$tr/$te: " . ($k eq 'clips' ? 'clip' : $k eq 'rec' ? 'recording' : $k eq 'spk' ? 'speaker'
          : 'language/source') . " '$v' in training ($ia->{$v}) and test ($ib->{$v})" if $n++ < 5;
      }
      push @problems, "$tr/$te: $n " . ($k eq 'langsrc' ? 'language/source pairs' : $k) . " leaked in all" if $n > 5;
    }
    if ($te =~ /^xs/) {
      my %tl = map { $_ => 1 } values %{$a->{utt2lang}};
      my %el = map { $_ => 1 } values %{$b->{utt2lang}};
      for my $l (sort keys %el) {
        push @problems, "$tr/$te: tested language $l has no training data" unless $tl{$l};
      }
    }
  }
}
push @problems, "$data: no training/test pairs found" unless @pairs;
if (@problems) {
  print STDERR "check_sets.pl: $_\n" for @problems[0 .. ($#problems < 49 ? $#problems : 49)];
  print STDERR "check_sets.pl: " . scalar(@problems) . " problems\n";
  exit 1;
}
print "OK: no clip, recording, speaker (test_spk) or language/source (xs) shared by training and test in: @pairs\n";
