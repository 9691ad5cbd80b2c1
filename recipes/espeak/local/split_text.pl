#!/usr/bin/perl
# Splits sentences into disjoint train and test lists.
#   split_text.pl <test-percent> <in> <out-train> <out-test>
# Sentences are grouped by their first four normalised words (lower case, letters only), and a
# group goes wholly to one side, chosen by the MD5 of its key: near-identical message templates
# ("cannot open X" / "cannot open Y") then never straddle the split. Deterministic.
use strict;
use warnings;
use Digest::MD5 qw(md5);
use Encode qw(encode);
binmode STDIN, ':encoding(UTF-8)';
die "usage: split_text.pl <test-percent> <in> <out-train> <out-test>\n" unless @ARGV == 4;
my ($pct, $in, $otr, $ote) = @ARGV;
die "split_text.pl: test percent must be in 1..99, got '$pct'\n" unless $pct =~ /^\d+$/ && $pct >= 1 && $pct <= 99;
open(my $fi, '<:encoding(UTF-8)', $in) or die "$in: cannot open: $!\n";
open(my $ft, '>:encoding(UTF-8)', $otr) or die "$otr: cannot write: $!\n";
open(my $fe, '>:encoding(UTF-8)', $ote) or die "$ote: cannot write: $!\n";
while (my $s = <$fi>) {
  chomp $s;
  next if $s eq '';
  my @w = grep { $_ ne '' } map { (my $x = lc $_) =~ s/[^\p{L}]//g; $x } split / /, $s;
  my $key = join(' ', @w[0 .. ($#w < 3 ? $#w : 3)]);
  my $h = unpack('N', md5(encode('UTF-8', $key)));
  print { ($h % 100) < $pct ? $fe : $ft } "$s\n";
}
close $ft or die "$otr: $!\n";
close $fe or die "$ote: $!\n";
