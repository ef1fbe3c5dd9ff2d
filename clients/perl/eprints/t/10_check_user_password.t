use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/../../Gatehouse-Client/lib", "$FindBin::Bin/../../Gatehouse-Client/t/lib";
use Test::More;

use GatehouseEPrintsTest;

my ( $logins, $logouts ) = ( 0, 0 );
{
    no warnings 'redefine';
    my $orig_out = \&Gatehouse::Client::logout;
    *Gatehouse::Client::logout = sub { my $r = $orig_out->(@_); $logouts++; $r };
    my $orig_in = \&Gatehouse::Client::login;
    *Gatehouse::Client::login = sub { my $r = $orig_in->(@_); $logins++; $r };
}

my @login_headers;
{
    no warnings 'redefine';
    my $orig = \&Gatehouse::Client::request;
    *Gatehouse::Client::request = sub {
        my ( $self, $method, $path, %opt ) = @_;
        push @login_headers, { %{ $opt{headers} || {} } } if $path eq '/api/login';
        return $orig->(@_);
    };
}

my $t     = GatehouseEPrintsTest->new;
my $admin = $t->server->admin;
( $logins, $logouts ) = ( 0, 0 );    # count only the hooks' log ins from here

ok ref $t->config->{check_user_password} eq 'CODE', 'zz_gatehouse.pl sets check_user_password';
ok ref $t->config->{get_current_user} eq 'CODE', 'and get_current_user';
is $t->config->{gatehouse}{url}, $t->server->url, 'the site\'s url is kept (//=)';

# The expected local record comes from Gatehouse's own.
sub expect_local {
    my ($email) = @_;
    my $gh = $admin->get_user($email);
    my @local = $t->local_by_email($email);
    is scalar @local, 1, "one local user for $email";
    my $l = $local[0] or return;
    is $l->{username}, $gh->{username} // $gh->{email}, '  username from Gatehouse';
    is $l->{usertype}, $gh->{type}, '  usertype from Gatehouse';
    is join( ' ', grep { defined } $l->{name}{given}, $l->{name}{family} ), $gh->{full_name}, '  name from Gatehouse';
    return $l;
}

# The right password, through EPrints' own valid_login (as the log in screen calls it).
my $repo = $t->request;
my $real = $repo->valid_login( 'depositor@example.org', 'change-me-depositor' );
is $real, $admin->get_user('depositor@example.org')->{username}, 'valid_login returns the local username';
my $dora = expect_local('depositor@example.org');
is $repo->{created_users}, 1, 'the local user was created';
ok $repo->user_by_username($real), 'the log in screen finds the user by the returned username';

# A wrong password, an unknown user, an unconfirmed and a disabled account: refused, and no
# local user is made.
my $before = scalar $t->local_users;
is $t->request->valid_login( 'depositor@example.org', 'wrong-password' ), undef, 'wrong password refused';
is $t->request->valid_login( 'nobody@example.org', 'change-me-depositor' ), undef, 'unknown user refused';
$admin->create_user( email => 'pending@example.org', password => 'pending-password-1', active => 1, confirm => 0 );
is $t->request->valid_login( 'pending@example.org', 'pending-password-1' ), undef, 'unconfirmed user refused';
$admin->create_user( email => 'off@example.org', password => 'off-password-1', active => 0, confirm => 1 );
is $t->request->valid_login( 'off@example.org', 'off-password-1' ), undef, 'disabled user refused';
is scalar $t->local_users, $before, 'no local user made for a refusal';
ok( ( grep { /invalid_credentials/ } @{ $t->log } ), 'the refusal is logged with its code' );
ok( ( grep { /email_unconfirmed/ } @{ $t->log } ), 'so is the unconfirmed one' );
is $t->config->{check_user_password}->( $t->request, 'dora', '' ), 0, 'an empty password is 0';

# The same user again, by username this time: found, not created twice.
$repo = $t->request;
is $repo->valid_login( 'dora', 'change-me-depositor' ), $real, 'log in by username';
is $repo->{created_users} // 0, 0, 'no second local user';
is scalar $t->local_by_email('depositor@example.org'), 1, 'still one';

# Changes in Gatehouse reach the local user at the next log in.
$admin->set_user_type( 'depositor@example.org', 'editor' );
$admin->update_user( 'depositor@example.org', full_name => 'Dora Q. Deposit-Hill' );
$repo = $t->request;
is $repo->valid_login( 'depositor@example.org', 'change-me-depositor' ), $real, 'log in after the change';
my $updated = expect_local('depositor@example.org');
is $updated->{userid}, $dora->{userid}, 'the same local user, updated';
is $repo->{created_users} // 0, 0, 'nothing created';

# A local account with the same username but another email belongs to someone else: the
# Gatehouse user does not take it over.
{
    my $repo  = $t->request;
    my $other = EPrints::DataObj::User::create( $repo, 'user' );
    $other->set_value( username => 'rosa' );
    $other->set_value( email    => 'rosa@elsewhere.example' );
    $other->commit;
    my $rosa_gh = $admin->get_user('reviewer@example.org');
    is $rosa_gh->{username}, 'rosa', 'Gatehouse\'s reviewer is `rosa` too';
    is $t->request->valid_login( 'reviewer@example.org', 'change-me-reviewer' ), undef, 'the log in is refused';
    is $t->db->{user}{ $other->get_id }{email}, 'rosa@elsewhere.example', 'the other account is untouched';
    is scalar $t->local_by_email('reviewer@example.org'), 0, 'and no second `rosa` is made';
    ok( ( grep { /not the same person/ } @{ $t->log } ), 'the clash is logged' );
}

# The person's address goes to Gatehouse (for its throttle; believed from trusted proxies).
@login_headers = ();
$repo = $t->request( _useragent_ip => '203.0.113.9' );
is $repo->valid_login( 'dora', 'change-me-depositor' ), $real, 'log in from a known address';
is $login_headers[0]{'X-Forwarded-For'}, '203.0.113.9', 'the address is sent as X-Forwarded-For';

# The Gatehouse session opened to check the password is ended again (POST /api/logout
# answered 204) once per successful log in.
is $logins, 5, 'Gatehouse accepted five log ins (four for dora, one for the refused clash)';
is $logouts, $logins, 'each Gatehouse session was ended again';

done_testing;
