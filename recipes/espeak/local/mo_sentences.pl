#!/usr/bin/perl
# Reads GNU gettext .mo catalogues and prints cleaned, speakable sentences, one per line (UTF-8).
#
#   mo_sentences.pl [--msgid] [--script latin|cyrillic|greek] FILE.mo...
#
# Default: the translations (msgstr); an entry whose translation equals its English original is
# skipped (untranslated). --msgid prints the English originals instead.
# --script: keep only lines whose letters are mostly (>= 80 %) in that script, which drops
# untranslated English left inside e.g. Russian catalogues.
# Cleaning (see CleanLine): format specifiers, markup, accelerators, URLs, paths, command-line
# options and tokens with digits/underscores are removed; a line is kept when it has 3..30 words,
# 15..200 characters, and at least 75 % of its non-space characters are letters.
# Only perl core modules are used (perl-base is essential in Debian), so no extra dependency.
use strict;
use warnings;
use Encode qw(decode);

binmode STDOUT, ':encoding(UTF-8)';
my $want_msgid = 0;
my $script = '';
while (@ARGV && $ARGV[0] =~ /^--/) {
  my $a = shift @ARGV;
  if ($a eq '--msgid') { $want_msgid = 1; }
  elsif ($a eq '--script') { $script = shift @ARGV // die "mo_sentences.pl: --script needs a value\n"; }
  else { die "mo_sentences.pl: unknown option '$a'\n"; }
}
die "usage: mo_sentences.pl [--msgid] [--script latin|cyrillic|greek] FILE.mo...\n" unless @ARGV;
my %script_re = (latin => qr/\p{Latin}/, cyrillic => qr/\p{Cyrillic}/, greek => qr/\p{Greek}/);
die "mo_sentences.pl: unknown script '$script'\n" if $script ne '' && !$script_re{$script};

# Returns a list of [msgid, msgstr] byte strings from one .mo file (format: GNU gettext manual,
# "The Format of GNU MO Files": magic, revision, N, offset of originals table, offset of translations).
sub ReadMo {
  my ($path) = @_;
  open(my $fh, '<:raw', $path) or die "$path: cannot open: $!\n";
  local $/;
  my $data = <$fh>;
  close $fh;
  die "$path: too short for a .mo file\n" if length($data) < 28;
  my $magic = unpack('V', substr($data, 0, 4));
  my $e;
  if ($magic == 0x950412de) { $e = 'V'; }
  elsif (unpack('N', substr($data, 0, 4)) == 0x950412de) { $e = 'N'; }
  else { die "$path: not a .mo file (bad magic)\n"; }
  my ($rev, $n, $orig, $trans) = unpack("x4 $e$e$e$e", $data);
  my @out;
  for my $i (0 .. $n - 1) {
    my ($ol, $oo) = unpack("$e$e", substr($data, $orig + 8 * $i, 8));
    my ($tl, $to) = unpack("$e$e", substr($data, $trans + 8 * $i, 8));
    die "$path: entry $i points outside the file\n"
      if $oo + $ol > length($data) || $to + $tl > length($data);
    push @out, [substr($data, $oo, $ol), substr($data, $to, $tl)];
  }
  return @out;
}

sub CleanLine {
  my ($s) = @_;
  $s =~ s/<[^<>]*>/ /g;                                   # markup
  $s =~ s{\b(?:https?|ftp|file)://\S+}{ }g;                # URLs
  $s =~ s/\S+@\S+\.\S+/ /g;                               # e-mail addresses
  $s =~ s/%(?:\d+\$)?[-+ #0'I]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?:hh|h|ll|l|L|q|j|z|t)?(?:<[A-Za-z0-9]+>)?[a-zA-Z%]/ /g;  # printf
  $s =~ s/\$\{[^}]*\}|\$\w+|\{[^{}]*\}/ /g;               # ${var}, $var, {0}
  $s =~ s/(?:^|\s)--?[\w-]+(?:=\S*)?/ /g;                  # command-line options
  $s =~ s{(?:^|\s)[~.]?/\S*}{ }g;                          # paths
  $s =~ s/_(?=\p{L})//g;                                  # GTK accelerators
  $s =~ s/&(?=\p{L})//g;                                  # Qt accelerators
  $s =~ s/\S*[\d_=\\|#@*\[\]^~`]\S*/ /g;                   # tokens with digits or code characters
  $s =~ s/([«"'‘“„»’”])\s*([«"'‘“„»’”])/ /g;              # quotes left empty by the removals
  $s =~ s/\(\s*\)/ /g;
  $s =~ s/[()«»"“”„‹›]//g;                               # brackets and quotes are not spoken
  $s =~ s/\s+([,.;:!?])/$1/g;
  $s =~ s/([,.;:!?])(?:\s*[,.;:!?])+/$1/g;
  $s =~ s/\s+/ /g;
  $s =~ s/^[\s,.;:!?\-–—'"«»]+//;
  $s =~ s/[\s,;:\-–—(]+$//;
  return $s;
}

sub Keep {
  my ($s) = @_;
  my @words = split / /, $s;
  return 0 if @words < 3 || @words > 30;
  my $len = length($s);
  return 0 if $len < 15 || $len > 200;
  (my $ns = $s) =~ s/\s//g;
  my $letters = () = $ns =~ /\p{L}/g;
  return 0 if $letters < 0.75 * length($ns);
  if ($script ne '') {
    my $re = $script_re{$script};
    my $in = () = $ns =~ /$re/g;
    return 0 if $in < 0.8 * $letters;
  }
  return 1;
}

my %seen;
for my $path (@ARGV) {
  for my $entry (ReadMo($path)) {
    my ($id, $str) = @$entry;
    next if $id eq '';                                    # header
    $id =~ s/^.*\x04//s;                                  # message context
    my ($id1) = split /\x00/, $id;
    my ($str1) = split /\x00/, $str;
    next unless defined $id1 && defined $str1 && $str1 ne '';
    next if !$want_msgid && $str1 eq $id1;                # untranslated
    my $text = $want_msgid ? $id1 : $str1;
    $text = eval { decode('UTF-8', $text, Encode::FB_CROAK) };
    next unless defined $text;                            # not UTF-8: skip rather than guess
    for my $line (split /\\n|\n|\t/, $text) {
      my $c = CleanLine($line);
      next unless Keep($c);
      (my $key = lc $c) =~ s/[^\p{L} ]//g;
      next if $seen{$key}++;
      print "$c\n";
    }
  }
}
