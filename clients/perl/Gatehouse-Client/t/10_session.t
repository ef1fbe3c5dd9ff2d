use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Scalar::Util qw(blessed);

use Gatehouse::TestServer;

my $s = Gatehouse::TestServer->start;

sub err_of(&) {
    my ($code) = @_;
    return eval { $code->(); undef } // $@;
}

# Log in by email: token, expiry, user, session cookie; the token then works.
my $gh = $s->client;
my $out = $gh->login( login => 'depositor@example.org', password => 'change-me-depositor' );
ok length $out->{token}, 'a bearer token';
ok $out->{expires}, 'an expiry';
is $out->{user}{email}, 'depositor@example.org', 'the user';
ok length $out->{session_cookie}, 'the session cookie';
is $gh->token, $out->{token}, 'the client keeps the token';
my $me = $gh->me;
is $me->{user}{email}, 'depositor@example.org', 'me with the token';

# The session cookie alone also works.
my $by_cookie = $s->client( session_cookie => $out->{session_cookie} );
is $by_cookie->me->{user}{username}, 'dora', 'me with the session cookie';

# Log in by username.
my $by_name = $s->client;
is $by_name->login( username => 'dora', password => 'change-me-depositor' )->{user}{email},
    'depositor@example.org', 'log in by username';
is $s->client->login( login => 'dora', password => 'change-me-depositor', keep => 0 )->{user}{username},
    'dora', 'login => a username';

# Refusals carry the server's codes.
my $e = err_of { $s->client->login( login => 'depositor@example.org', password => 'wrong-password' ) };
ok blessed $e && $e->isa('Gatehouse::Client::Error'), 'a wrong password dies with an error object';
is $e->status, 401, 'status 401';
is $e->code, 'invalid_credentials', 'invalid_credentials';
ok length $e->message, 'with a message';

$e = err_of { $s->client->login( login => 'nobody@example.org', password => 'whatever-123' ) };
is $e->code, 'invalid_credentials', 'unknown user: the same code';

my $admin = $s->admin;
$admin->create_user( email => 'unconfirmed@example.org', password => 'password-123', active => 1, confirm => 0 );
$e = err_of { $s->client->login( login => 'unconfirmed@example.org', password => 'password-123' ) };
is $e->status, 403, 'unconfirmed: 403';
is $e->code, 'email_unconfirmed', 'email_unconfirmed';

$admin->create_user( email => 'inactive@example.org', password => 'password-123', active => 0, confirm => 1 );
$e = err_of { $s->client->login( login => 'inactive@example.org', password => 'password-123' ) };
is $e->code, 'account_disabled', 'inactive: account_disabled';

# Log out ends the token; the client forgets it.
my $token = $gh->token;
ok $gh->logout, 'logout';
is $gh->token, undef, 'token forgotten';
$e = err_of { $s->client( token => $token )->me };
is $e->status, 401, 'the old token is refused';
is $e->code, 'unauthorized', 'unauthorized';

$e = err_of { $s->client->logout };
is $e->code, 'unauthorized', 'logout without a session: unauthorized';

done_testing;
