use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;

use Gatehouse::TestServer;

my $s     = Gatehouse::TestServer->start;
my $admin = $s->admin;
sub err_of(&) { my ($code) = @_; return eval { $code->(); undef } // $@ }

my $email = 'new.person@example.org';
my $created = $admin->create_user( email => $email, password => 'first-password-1', username => 'newp',
    full_name => 'New Person', affiliations => 'Library', active => 1, confirm => 1, type => 'user',
    roles => ['approve-hat'] );
is $created->{user}{email}, $email, 'created';
is $created->{user}{type}, 'user', 'with its type';
is_deeply $created->{user}{roles}, ['approve-hat'], 'with its entries';
my $id = $created->{user}{id};

is $admin->get_user($id)->{email}, $email, 'get by id';
is $admin->get_user($email)->{id}, $id, 'get by email';

my $page = $admin->list_users( q => 'Person', limit => 10 );
is_deeply [ map { $_->{email} } @{ $page->{users} } ], [$email], 'search finds them';
is $page->{total}, 1, 'total';
my $editors = $admin->list_users( type => 'editor', active => 1 );
ok $editors->{total} >= 1 && !grep( { $_->{type} ne 'editor' } @{ $editors->{users} } ), 'filter by type';

my $changed = $admin->update_user( $email, full_name => 'New P. Person' );
ok $changed->{changed}, 'profile changed';
is $changed->{user}{full_name}, 'New P. Person', 'new name';

is $admin->set_user_type( $email, 'editor' )->{user}{type}, 'editor', 'type set';
is_deeply $admin->set_user_roles( $email, [ 'approve-hat', '+status' ] )->{user}{roles}, [ 'approve-hat', '+status' ], 'roles set';
is_deeply $admin->add_user_entry( $email, '-status' )->{user}{roles}, [ 'approve-hat', '+status', '-status' ], 'entry added';
is_deeply $admin->remove_user_entry( $email, '-status' )->{user}{roles}, [ 'approve-hat', '+status' ], 'entry removed';
is_deeply $admin->set_user_scope( $email, ['divisions=law;subjects=K'] )->{user}{editorial_scope}, ['divisions=law;subjects=K'], 'scope set';

my $priv = $admin->user_privileges($email);
ok( ( grep { $_->{privilege} eq 'status' } @{ $priv->{privileges} } ), 'privileges list the +status entry' );

# Passwords: the new one logs in, the old one no longer does.
$admin->set_user_password( $email, password => 'second-password-2' );
ok $s->client->login( login => $email, password => 'second-password-2' )->{token}, 'new password works';
is err_of { $s->client->login( login => $email, password => 'first-password-1' ) }->code, 'invalid_credentials', 'old one refused';
my $random = $admin->set_user_password( $email, random => 1 );
ok length $random->{generated_password}, 'a random password, shown once';
ok $s->client->login( login => $email, password => $random->{generated_password} )->{token}, 'and it works';

# Deactivate, activate, confirm.
ok !$admin->deactivate_user($email)->{user}{active}, 'deactivated';
is err_of { $s->client->login( login => $email, password => $random->{generated_password} ) }->code, 'account_disabled', 'cannot log in';
ok $admin->activate_user($email)->{user}{active}, 'activated';

$admin->create_user( email => 'later@example.org', password => 'later-password-1', active => 1 );
is err_of { $s->client->login( login => 'later@example.org', password => 'later-password-1' ) }->code, 'email_unconfirmed', 'unconfirmed';
ok $admin->confirm_user('later@example.org')->{user}{confirmed}, 'confirmed by the admin';
ok $s->client->login( login => 'later@example.org', password => 'later-password-1' )->{token}, 'then logs in';

# Errors with their codes.
my $e = err_of { $admin->create_user( email => $email, password => 'whatever-123' ) };
is $e->status, 409, 'a taken email: 409';
is $e->code, 'conflict', 'conflict';
$e = err_of { $admin->create_user( email => 'x@example.org', colour => 'blue' ) };
is $e->status, 422, 'an unknown field: 422';
is $e->code, 'invalid', 'invalid';
like $e->message, qr/colour/, 'the message names the field';
$e = err_of { $s->client->list_users };
is $e->code, 'unauthorized', 'listing without a token: unauthorized';
my $dora = $s->client;
$dora->login( login => 'dora', password => 'change-me-depositor' );
$e = err_of { $dora->create_user( email => 'y@example.org' ) };
is $e->code, 'forbidden', 'a depositor cannot create users';
is $dora->get_user('depositor@example.org')->{username}, 'dora', 'but can read their own record';

# Delete.
ok $admin->delete_user($email), 'deleted';
$e = err_of { $admin->get_user($email) };
is $e->code, 'not_found', 'gone: not_found';

done_testing;
