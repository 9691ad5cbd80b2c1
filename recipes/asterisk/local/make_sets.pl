#!/usr/bin/perl
# Splits the listed Asterisk prompts into training and test sets and writes Kaldi data directories.
#   make_sets.pl <heldout-percent> <core.tsv> <unseen.tsv> <data-dir>
# <core.tsv>, <unseen.tsv>: lines from local/list_voice.sh (lang, speaker, prompt, wav, seconds).
# A prompt is held out (in every language) when MD5(prompt name) mod 100 < <heldout-percent>.
# Writes <data-dir>/<set>/{wav.scp,utt2lang,utt2spk,utt2dur,utt2prompt} for the sets
#   train                       core voices, prompts not held out
#   test_same_speaker           core voices, held-out prompts (same speakers as training)
#   test_unseen_speaker         prompt packs, all prompts (speakers training never heard)
#   test_unseen_speaker_prompt  prompt packs, held-out prompts only (neither speaker nor text heard)
use strict;
use warnings;
use Digest::MD5 qw(md5);
die "usage: make_sets.pl <heldout-percent> <core.tsv> <unseen.tsv> <data-dir>\n" unless @ARGV == 4;
my ($pct, $core, $unseen, $dir) = @ARGV;
die "make_sets.pl: held-out percent must be in 1..99\n" unless $pct =~ /^\d+$/ && $pct >= 1 && $pct <= 99;
sub HeldOut { return (unpack('N', md5($_[0])) % 100) < $pct; }
my %sets;
for my $src ([$core, 'core'], [$unseen, 'unseen']) {
  my ($path, $kind) = @$src;
  open(my $fh, '<', $path) or die "$path: cannot open: $!\n";
  while (my $l = <$fh>) {
    chomp $l;
    my ($lang, $spk, $prompt, $wav, $secs) = split /\t/, $l;
    die "$path: malformed line '$l'\n" unless defined $secs;
    (my $utt = "$spk-$prompt") =~ s{[/\s]}{_}g;
    my @to = $kind eq 'core' ? (HeldOut($prompt) ? 'test_same_speaker' : 'train')
                             : ('test_unseen_speaker', HeldOut($prompt) ? 'test_unseen_speaker_prompt' : ());
    for my $set (@to) {
      die "$path: duplicate utterance $utt in $set\n" if exists $sets{$set}{$utt};
      $sets{$set}{$utt} = [$lang, $spk, $prompt, $wav, $secs];
    }
  }
}
for my $set (sort keys %sets) {
  mkdir "$dir/$set" or die "$dir/$set: cannot create: $!\n" unless -d "$dir/$set";
  my %fh;
  for my $f (qw(wav.scp utt2lang utt2spk utt2dur utt2prompt)) {
    open($fh{$f}, '>', "$dir/$set/$f") or die "$dir/$set/$f: cannot write: $!\n";
  }
  for my $utt (sort keys %{$sets{$set}}) {   # byte order = LC_ALL=C sort, as Kaldi expects
    my ($lang, $spk, $prompt, $wav, $secs) = @{$sets{$set}{$utt}};
    print { $fh{'wav.scp'} } "$utt $wav\n";
    print { $fh{utt2lang} } "$utt $lang\n";
    print { $fh{utt2spk} } "$utt $spk\n";
    print { $fh{utt2dur} } "$utt $secs\n";
    print { $fh{utt2prompt} } "$utt $prompt\n";
  }
  close $_ or die "$dir/$set: write failed: $!\n" for values %fh;
}
