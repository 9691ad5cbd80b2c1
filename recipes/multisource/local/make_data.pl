#!/usr/bin/perl
# Turns one or several corpora in real-v1 form (recordings.tsv + segments.tsv + audio/) into one Kaldi
# data directory holding every utterance, with utterances = original clips, short clips of one
# recording merged.
#   make_data.pl <corpus-dir>[:<corpus-dir>...] <merge-min-seconds> <exclude-sources> <out-dir>
# Several corpora (colon-separated, e.g. real-v1 and the Debian corpus of local/make_debian_corpus.py)
# are pooled: their sources must be distinct (a source name in two corpora is an error, since its
# speakers would be merged), and every later step sees one list of sources.
# <exclude-sources>: space-separated source names to leave out ("" for none).
# An utterance is a run of consecutive clips of one recording (one speaker, one source): clips are
# taken in time order and merged until the run spans at least <merge-min-seconds> (start of its first
# clip to end of its last, the 0.25 s gaps included); a clip that long stands alone; the last run of a
# recording may be shorter. 0 keeps every clip as its own utterance.
# Writes <out-dir>/{wav.scp, segments, utt2lang, utt2spk, spk2utt, utt2source, utt2dur, utt2clips,
#   utt2rec}: wav.scp is recording-level (absolute paths); speaker ids are "<source>-<lang>-<label>"
# (label sanitised to [A-Za-z0-9]; the corpus says one source's labels say nothing about another's),
# utterance ids start with their speaker id (Kaldi's sort convention); utt2clips lists the original
# clips of each utterance (space-separated; a space inside a clip name is written %20), for the clip-leak checks.
use strict;
use warnings;
use File::Spec;
binmode STDOUT, ':encoding(UTF-8)';
die "usage: make_data.pl <corpus-dir>[:<corpus-dir>...] <merge-min-seconds> <exclude-sources> <out-dir>\n" unless @ARGV == 4;
my ($corpora, $merge_min, $exclude, $out) = @ARGV;
my @corpora = map { File::Spec->rel2abs($_) } grep { $_ ne '' } split /:/, $corpora;
die "make_data.pl: no corpus given\n" unless @corpora;
my %excl = map { $_ => 1 } split ' ', $exclude;
die "make_data.pl: merge-min-seconds must be a number >= 0, got '$merge_min'\n" unless $merge_min =~ /^\d+(\.\d+)?$/;

sub ReadTsv {
  my ($path, $ncols) = @_;
  open(my $fh, '<:encoding(UTF-8)', $path) or die "$path: cannot open: $!\n";
  my @rows;
  my $header = <$fh>;
  die "$path: empty\n" unless defined $header;
  while (my $l = <$fh>) {
    chomp $l;
    next if $l eq '';
    my @f = split /\t/, $l, -1;
    die "$path:$.: expected $ncols tab-separated fields, got " . scalar(@f) . "\n" unless @f == $ncols;
    push @rows, \@f;
  }
  return \@rows;
}
sub Clean { (my $s = $_[0]) =~ s/[^A-Za-z0-9]+//g; return $s eq '' ? 'x' : $s; }

my (%rec, %spk_of_label, %corpus_of_source);
for my $corpus (@corpora) {
  for my $r (@{ReadTsv("$corpus/recordings.tsv", 6)}) {
    my ($path, $source, $lang, $label, $dur) = @$r;
    die "$corpus/recordings.tsv: source '$source' is also in $corpus_of_source{$source}\n"
      if exists $corpus_of_source{$source} && $corpus_of_source{$source} ne $corpus;
    $corpus_of_source{$source} = $corpus;
    next if $excl{$source};
    my $abs = "$corpus/audio/$path";
    die "$corpus/recordings.tsv: $path: no such file $abs\n" unless -f $abs;
    my $spk = join('-', Clean($source), Clean($lang), Clean($label));
    my $key = "$source\t$lang\t$label";
    die "$corpus/recordings.tsv: speakers '$key' and '$spk_of_label{$spk}' both map to id $spk\n"
      if exists $spk_of_label{$spk} && $spk_of_label{$spk} ne $key;
    $spk_of_label{$spk} = $key;
    (my $base = $path) =~ s{^.*/}{};
    $base =~ s/\.[^.]+$//;
    $base = $1 if $base =~ /(\d+)$/;   # real-v1 names end in a per-speaker number
    $rec{$abs} = { abs => $abs, source => $source, lang => $lang, spk => $spk, dur => $dur,
                   id => "$spk-" . Clean($base), clips => [] };
  }
  for my $s (@{ReadTsv("$corpus/segments.tsv", 4)}) {
    my ($path, $start, $end, $clip) = @$s;
    my $abs = "$corpus/audio/$path";
    next unless exists $rec{$abs};
    die "$corpus/segments.tsv: $path: segment $start..$end outside the recording ($rec{$abs}{dur} s)\n"
      unless $start >= 0 && $end > $start && $end <= $rec{$abs}{dur} + 0.05;
    (my $c = $clip) =~ s/ /%20/g;   # utt2clips is space-separated
    push @{$rec{$abs}{clips}}, [$start, $end, $c];
  }
}
die "make_data.pl: no recordings left in $corpora (exclude: '$exclude')\n" unless %rec;
mkdir $out or die "$out: cannot create: $!\n" unless -d $out;
my (%utt, %recid);
for my $path (keys %rec) {
  my $r = $rec{$path};
  die "make_data.pl: recording id $r->{id} is not unique\n" if $recid{$r->{id}}++;
  my @c = sort { $a->[0] <=> $b->[0] } @{$r->{clips}};
  die "make_data.pl: no segment for recording $path (segments.tsv)\n" unless @c;
  my @run;
  my $n = 0;
  my $flush = sub {
    return unless @run;
    my $id = sprintf('%s-%03d', $r->{id}, $n++);
    $utt{$id} = { rec => $r, start => $run[0][0], end => $run[-1][1], clips => [map { $_->[2] } @run] };
    @run = ();
  };
  for my $c (@c) {
    push @run, $c;
    $flush->() if $run[-1][1] - $run[0][0] >= $merge_min;
  }
  $flush->();
}
my %fh;
for my $f (qw(wav.scp segments utt2lang utt2spk utt2source utt2dur utt2clips utt2rec spk2utt)) {
  open($fh{$f}, '>:encoding(UTF-8)', "$out/$f") or die "$out/$f: cannot write: $!\n";
}
for my $id (sort { $rec{$a}{id} cmp $rec{$b}{id} } keys %rec) {
  print { $fh{'wav.scp'} } "$rec{$id}{id} $rec{$id}{abs}\n";
}
my %s2u;
for my $id (sort keys %utt) {   # byte order = LC_ALL=C sort, as Kaldi expects
  my $u = $utt{$id};
  my $r = $u->{rec};
  printf { $fh{segments} } "%s %s %.3f %.3f\n", $id, $r->{id}, $u->{start}, $u->{end};
  print { $fh{utt2lang} } "$id $r->{lang}\n";
  print { $fh{utt2spk} } "$id $r->{spk}\n";
  print { $fh{utt2source} } "$id $r->{source}\n";
  printf { $fh{utt2dur} } "%s %.3f\n", $id, $u->{end} - $u->{start};
  print { $fh{utt2clips} } "$id @{$u->{clips}}\n";
  print { $fh{utt2rec} } "$id $r->{id}\n";
  push @{$s2u{$r->{spk}}}, $id;
}
print { $fh{spk2utt} } "$_ @{$s2u{$_}}\n" for sort keys %s2u;
close $_ or die "$out: write failed: $!\n" for values %fh;
printf STDERR "make_data.pl: %d recordings, %d utterances, %d speakers -> %s\n", scalar(keys %rec), scalar(keys %utt), scalar(keys %s2u), $out;
