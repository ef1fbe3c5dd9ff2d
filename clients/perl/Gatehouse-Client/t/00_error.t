use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;

use Gatehouse::Client;
use Gatehouse::Client::Error;

# The exception object: fields, stringification, and what a missing server gives.
my $e = Gatehouse::Client::Error->new(
    status => 404, code => 'not_found', message => 'user `x@y` not found',
    method => 'GET', path => '/api/users/x%40y',
);
is $e->status,  404,                    'status';
is $e->code,    'not_found',            'code';
is $e->message, 'user `x@y` not found', 'message';
like "$e", qr/404 not_found: user `x\@y` not found \(GET \/api\/users\/x%40y\)/, 'stringifies';
ok !eval { Gatehouse::Client::Error->throw( status => 500, code => 'internal' ); 1 }, 'throw dies';
isa_ok $@, 'Gatehouse::Client::Error';
is( Gatehouse::Client::Error->new( status => 502 )->code, 'http_502', 'no code: http_STATUS' );

# Nothing listens on a port we just closed: a transport error, status 599.
use IO::Socket::INET;
my $sock = IO::Socket::INET->new( Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0 ) or die;
my $port = $sock->sockport;
close $sock;
my $gh = Gatehouse::Client->new( base_url => "http://127.0.0.1:$port/", retries => 1, retry_delay => 0.01 );
is $gh->base_url, "http://127.0.0.1:$port", 'trailing slash dropped';
ok !eval { $gh->get_user('a@b.org'); 1 }, 'no server: dies';
isa_ok $@, 'Gatehouse::Client::Error';
is $@->status, 599,         'transport status';
is $@->code,   'transport', 'transport code';

ok !eval { Gatehouse::Client->new; 1 }, 'base_url is required';
like $@, qr/base_url is required/, 'and says so';

done_testing;
