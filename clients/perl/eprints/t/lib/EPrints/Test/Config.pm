package EPrints::Test::Config;

# Loads a cfg.d file the way EPrints::Config::load_config_file does: the file's text is
# eval'd in package EPrints::Config::<id>, with `our $c` the repository's configuration hash,
# under `use strict` and with warnings on.

use strict;
use warnings;

my $n = 0;

sub load {
    my ( $class, $path, $config ) = @_;
    my $id = 'perltest' . ++$n;
    open my $fh, '<', $path or die "open $path: $!";
    my $text = do { local $/; <$fh> };
    no strict 'refs';
    ${"EPrints::Config::${id}::config"} = $config;
    my $code = "package EPrints::Config::$id; use strict; use warnings; our \$c = \$EPrints::Config::${id}::config;\n#line 1 \"$path\"\n$text\n; 1;";
    eval $code or die "Error in configuration: $@";
    return $config;
}

1;
