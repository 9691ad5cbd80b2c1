#!/usr/bin/perl
# A small sample of a data directory: at most N utterances per (language, source), taken in MD5 order
# of the utterance id (a rerun gives the same sample). Used for the Z-norm cohort (local/score_norm.py).
#   subset_per_source.pl <in-dir> <N> <out-dir>
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);
die "usage: subset_per_source.pl <in-dir> <N> <out-dir>\n" unless @ARGV == 3;
my ($in, $n, $out) = @ARGV;
die "subset_per_source.pl: N must be an integer >= 1, got '$n'\n" unless $n =~ /^\d+$/ && $n >= 1;
use FindBin;
use lib $FindBin::Bin;
use KaldiTable qw(ReadMap);
my @files = grep { -f "$in/$_" } qw(segments utt2lang utt2spk utt2source utt2dur utt2clips utt2rec);
for my $f (qw(wav.scp segments utt2lang utt2source)) { die "$in/$f: missing\n" unless -f "$in/$f"; }
my %m = map { $_ => ReadMap("$in/$_") } ('wav.scp', @files);
my (%groups, @keep);
push @{$groups{"$m{utt2lang}{$_} $m{utt2source}{$_}"}}, $_ for sort { md5_hex($a) cmp md5_hex($b) } keys %{$m{segments}};
for my $g (sort keys %groups) { my @u = @{$groups{$g}}; push @keep, @u[0 .. ($#u < $n - 1 ? $#u : $n - 1)]; }
@keep = sort @keep;
mkdir $out or die "$out: cannot create: $!\n" unless -d $out;
my %recs;
for my $f (@files) {
  open(my $fh, '>:encoding(UTF-8)', "$out/$f") or die "$out/$f: cannot write: $!\n";
  print $fh "$_ $m{$f}{$_}\n" for @keep;
  close $fh or die "$out/$f: write failed: $!\n";
}
$recs{(split / /, $m{segments}{$_})[0]} = 1 for @keep;
open(my $w, '>:encoding(UTF-8)', "$out/wav.scp") or die "$out/wav.scp: cannot write: $!\n";
print $w "$_ $m{'wav.scp'}{$_}\n" for sort keys %recs;
close $w or die "$out/wav.scp: write failed: $!\n";
printf "%s: %d utterances of %d (language, source) pairs\n", $out, scalar @keep, scalar keys %groups;
