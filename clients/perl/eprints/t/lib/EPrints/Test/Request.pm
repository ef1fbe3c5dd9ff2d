package EPrints::Test::Request;

# Stand-in for the mod_perl request (Apache2::RequestRec): `headers_in` gives the request
# headers as a hash, as APR::Table does when used as a hash reference.

use strict;
use warnings;

sub new {
    my ( $class, %headers ) = @_;
    my $ip = delete $headers{_useragent_ip};
    return bless { headers_in => {%headers}, useragent_ip => $ip }, $class;
}

sub headers_in { $_[0]{headers_in} }

# Apache 2.4: the address of the user agent (the client, or the one a proxy names).
sub useragent_ip { $_[0]{useragent_ip} }
sub user       { undef }

1;
