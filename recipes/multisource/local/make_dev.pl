#!/usr/bin/perl
# Splits a training data directory by speaker into a smaller training set and a development set of
# held-out speakers, for calibration (slid calibrate) on speakers the model never heard.
#   make_dev.pl <train-dir> <dev-speaker-percent> <out-train-dir> <out-dev-dir>
# In every (source, language) of <train-dir> with >= 2 speakers, the speakers whose
# MD5("dev:" . speaker id) mod 100 < <dev-speaker-percent> go to the development set (at least one,
# never all: the rule of make_sets.pl's test_spk, with another salt so that it picks other speakers);
# every other utterance stays for training. A language whose every source has one speaker gets no
# development data: slid calibrate then gives it the mean offset (and names it).
# Both outputs hold the files of <train-dir> (wav.scp, segments, utt2*, spk2utt), filtered.
# Dies if a speaker ends up in both (a leak), or if the split leaves fewer than 2 languages with
# development data. Prints one summary line per output.
use strict;
use warnings;
use Digest::MD5 qw(md5);
die "usage: make_dev.pl <train-dir> <dev-speaker-percent> <out-train-dir> <out-dev-dir>\n" unless @ARGV == 4;
my ($in, $pct, $out_train, $out_dev) = @ARGV;
die "make_dev.pl: dev-speaker-percent must be in 1..99, got '$pct'\n" unless $pct =~ /^\d+$/ && $pct >= 1 && $pct <= 99;
sub Hash { return unpack('N', md5("dev:" . $_[0])) % 100; }
use FindBin;
use lib $FindBin::Bin;
use KaldiTable qw(ReadMap);
my @utt_files = grep { -f "$in/$_" } qw(segments utt2lang utt2spk utt2source utt2dur utt2clips utt2rec);
for my $f (qw(wav.scp segments utt2lang utt2spk utt2source)) { die "$in/$f: missing\n" unless -f "$in/$f"; }
my %m = map { $_ => ReadMap("$in/$_") } ('wav.scp', @utt_files);
my @utts = sort keys %{$m{segments}};
die "$in: no utterances\n" unless @utts;
for my $u (@utts) {
  for my $f (@utt_files) { die "$in/$f: no entry for utterance $u\n" unless defined $m{$f}{$u}; }
}

my %spks;   # "source lang" -> {speaker}
$spks{"$m{utt2source}{$_} $m{utt2lang}{$_}"}{$m{utt2spk}{$_}} = 1 for @utts;
my %dev_spk;
for my $key (sort keys %spks) {
  my @s = sort keys %{$spks{$key}};
  next if @s < 2;
  my @held = grep { Hash($_) < $pct } @s;
  @held = ((sort { Hash($a) <=> Hash($b) || $a cmp $b } @s)[0]) unless @held;   # at least one
  @held = @held[0 .. $#s - 1] if @held == @s;                                       # never all
  $dev_spk{$_} = 1 for @held;
}
my %sets = (train => [], dev => []);
push @{$sets{$dev_spk{$m{utt2spk}{$_}} ? 'dev' : 'train'}}, $_ for @utts;

# Leak check: no speaker on both sides.
my %train_spk = map { $m{utt2spk}{$_} => 1 } @{$sets{train}};
for my $u (@{$sets{dev}}) { die "make_dev.pl: speaker $m{utt2spk}{$u} is in both sets\n" if $train_spk{$m{utt2spk}{$u}}; }
my %dev_langs = map { $m{utt2lang}{$_} => 1 } @{$sets{dev}};
die "make_dev.pl: $in: development speakers in " . scalar(keys %dev_langs) . " language(s); calibration needs 2\n"
  if keys %dev_langs < 2;

for my $set ('train', 'dev') {
  my $dir = $set eq 'train' ? $out_train : $out_dev;
  mkdir $dir or die "$dir: cannot create: $!\n" unless -d $dir;
  my %fh;
  for my $f ('wav.scp', @utt_files, 'spk2utt') {
    open($fh{$f}, '>:encoding(UTF-8)', "$dir/$f") or die "$dir/$f: cannot write: $!\n";
  }
  my (%recs, %s2u, %langs);
  my $secs = 0;
  for my $u (@{$sets{$set}}) {
    print { $fh{$_} } "$u $m{$_}{$u}\n" for @utt_files;
    $recs{(split / /, $m{segments}{$u})[0]} = 1;
    push @{$s2u{$m{utt2spk}{$u}}}, $u;
    $langs{$m{utt2lang}{$u}} = 1;
    $secs += $m{utt2dur}{$u} // 0;
  }
  for my $r (sort keys %recs) {
    die "$in/wav.scp: no recording $r\n" unless defined $m{'wav.scp'}{$r};
    print { $fh{'wav.scp'} } "$r $m{'wav.scp'}{$r}\n";
  }
  print { $fh{spk2utt} } "$_ @{$s2u{$_}}\n" for sort keys %s2u;
  close $_ or die "$dir: write failed: $!\n" for values %fh;
  printf "%-24s %6d utts %7.1f min %3d speakers %2d languages\n", $dir, scalar @{$sets{$set}}, $secs / 60,
    scalar(keys %s2u), scalar(keys %langs);
}
