use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/../../Gatehouse-Client/lib", "$FindBin::Bin/../../Gatehouse-Client/t/lib";
use Test::More;

use GatehouseEPrintsTest;

my $t = GatehouseEPrintsTest->new;
my $s = $t->server;

# A bearer token from Gatehouse's log in -> EPrints::Repository::current_user -> local user.
my $rosa = $s->client;
my $login = $rosa->login( login => 'reviewer@example.org', password => 'change-me-reviewer' );
my $repo = $t->request( Authorization => "Bearer $login->{token}" );
my $user = $repo->current_user;
ok $user, 'a bearer token gives a current user';
isa_ok $user, 'EPrints::DataObj::User';
is $user->get_value('email'), $login->{user}{email}, 'the token\'s user';
is $user->get_value('username'), $login->{user}{username}, 'with the Gatehouse username';
is $repo->{created_users}, 1, 'created locally on first sight';
my $userid = $user->get_id;

$repo = $t->request( Authorization => "Bearer $login->{token}" );
is $repo->current_user->get_id, $userid, 'the next request: the same local user';
is $repo->{created_users} // 0, 0, 'not created again';

# The session cookie among others.
my $lena = $s->client;
my $l = $lena->login( login => 'editor.law@example.org', password => 'change-me-editor-1' );
$repo = $t->request( Cookie => "eprints_session=abc; gatehouse_session=$l->{session_cookie}; lang=en" );
is $repo->current_user->get_value('email'), 'editor.law@example.org', 'the gatehouse_session cookie gives the user';

# Nothing, or a bad or ended token: no user from Gatehouse (EPrints falls back to its own).
is $t->request->current_user, undef, 'no credential: undef';
is $t->request( Authorization => 'Bearer not-a-real-token' )->current_user, undef, 'a bogus token: undef';
ok( ( grep { /unauthorized/ } @{ $t->log } ), 'and it is logged with its code' );
is $t->request( Authorization => 'Basic ZG9yYTp4' )->current_user, undef, 'basic auth is not ours';
$rosa->logout;
is $t->request( Authorization => "Bearer $login->{token}" )->current_user, undef, 'after log out: undef';

# A repository without Gatehouse configured keeps EPrints' own behaviour.
my $plain = EPrints::Repository->new(
    config  => { get_current_user => $t->config->{get_current_user} },
    request => EPrints::Test::Request->new( Authorization => "Bearer $l->{token}" ),
);
is $plain->current_user, undef, 'no $c->{gatehouse}: the hook does nothing';

done_testing;
