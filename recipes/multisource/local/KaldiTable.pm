# Kaldi two-column tables (utt2lang, utt2spk, utt2source, wav.scp, ...) for the recipe's perl scripts.
#   use FindBin; use lib $FindBin::Bin; use KaldiTable qw(ReadMap);
package KaldiTable;
use strict;
use warnings;
use Exporter qw(import);
our @EXPORT_OK = qw(ReadMap);

# Reads "<key> <value...>" lines (UTF-8) into a hash reference. Dies naming the file and line on a
# line without a value or with an empty key, and on a key given twice.
sub ReadMap {
  my ($path) = @_;
  open(my $fh, '<:encoding(UTF-8)', $path) or die "$path: cannot open: $!\n";
  my %m;
  while (my $l = <$fh>) {
    chomp $l;
    my ($k, $v) = split / /, $l, 2;
    die "$path:$.: malformed line '$l'\n" unless defined $v && $k ne '';
    die "$path:$.: duplicate key '$k'\n" if exists $m{$k};
    $m{$k} = $v;
  }
  return \%m;
}

1;
