use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/../../Gatehouse-Client/lib", "$FindBin::Bin/../../Gatehouse-Client/t/lib";
use Test::More;

use GatehouseEPrintsTest;
use Gatehouse::EPrints;

# Count the effective calls and how the server answered them.
my @effective_calls;
{
    no warnings 'redefine';
    my $orig = \&Gatehouse::Client::effective;
    *Gatehouse::Client::effective = sub {
        my $r = $orig->(@_);
        push @effective_calls, [ $_[1], $_[0]->last_status ];
        return $r;
    };
}

my $t = GatehouseEPrintsTest->new;
my $s = $t->server;
my $admin = $s->admin;
my $svc = $s->client( token => $s->service_token('check/any') );

# EPrints' public privileges come from its own config (allow_anybody): set public_roles to
# Gatehouse's public set, as `gatehouse policy convert` keeps them in step.
my $public = $admin->user_privileges('admin@example.org')->{public};
$t->config->{public_roles} = [ map { "+$_->{privilege}" } @$public ];

# Every Gatehouse user gets a local EPrints user, as a log in would make.
my @gh_users = @{ $admin->list_users( limit => 500 )->{users} };
my %local;
{
    my $repo = $t->request;
    for my $u (@gh_users) {
        my $l = Gatehouse::EPrints::sync_local_user( $repo, $u );
        $local{ $u->{email} } = $l->get_id;
    }
}
is scalar keys %local, scalar @gh_users, 'a local user for every Gatehouse user';

my @privileges = qw(
    eprint/edit eprint/view eprint/summary eprint/move_archive eprint/move_buffer eprint/takelock
    eprint/destroy eprint/archive/edit eprint/buffer/view eprint/export eprint/details
    user/edit user/view user/staff/edit create_eprint status config/edit subject/rest/get
    eprint/archive/rest/get saved_search/view items
);

# Items: eprints in every status, owned by nobody or by one of two users, with three sets
# of scope fields; user records; and no item at all.
my @items = (undef);
for my $status (qw(inbox buffer archive deletion)) {
    for my $owner ( undef, 'depositor@example.org', 'editor.cs@example.org' ) {
        for my $fields ( {}, { divisions => ['law'] }, { divisions => ['ecs'], subjects => ['QA'] } ) {
            push @items, { dataset => 'eprint', status => $status,
                owners => [ defined $owner ? $owner : () ], fields => $fields };
        }
    }
}
push @items, map { { dataset => 'user', owners => [$_] } } 'depositor@example.org', 'reviewer@example.org';

# The stand-in EPrints object for an item: an EPrint in its status with its owner's local
# userid and field values, or the owner's local User record.
my $next_eprintid = 0;
sub object_for {
    my ( $repo, $item ) = @_;
    return undef unless $item;
    my ($owner) = @{ $item->{owners} };
    if ( $item->{dataset} eq 'user' ) {
        return $repo->user( $local{$owner} );
    }
    return EPrints::DataObj::EPrint->new_from_data( $repo, {
        eprintid => ++$next_eprintid, eprint_status => $item->{status},
        ( defined $owner ? ( userid => $local{$owner} ) : () ), %{ $item->{fields} } } );
}

sub expected {
    my @checks;
    for my $u (@gh_users) {
        for my $p (@privileges) {
            push @checks, map { { user => $u->{email}, privilege => $p, ( $_ ? ( item => $_ ) : () ) } } @items;
        }
    }
    my @answers;
    while ( my @chunk = splice @checks, 0, 1000 ) {
        my $res = $svc->check_batch( \@chunk );
        for my $n ( 0 .. $#chunk ) {
            die "check failed: $res->[$n]{error}{message}" if $res->[$n]{error};
            push @answers, [ $chunk[$n], $res->[$n] ];
        }
    }
    return @answers;
}

# One simulated web request: every user's allow( $priv, $item ) through EPrints' own allow,
# has_privilege and permit, with the replaced get_privs and in_editorial_scope_of.
sub compare {
    my ($label) = @_;
    my @answers = expected();
    my $repo = $t->request;
    my ( $agree, $allowed, @wrong ) = ( 0, 0 );
    for my $a (@answers) {
        my ( $c, $want ) = @$a;
        my $user = $repo->user( $local{ $c->{user} } );
        my $mask = $user->allow( $c->{privilege}, object_for( $repo, $c->{item} ) );
        $allowed++ if $want->{allowed};
        if ( ( $mask ? 1 : 0 ) == ( $want->{allowed} ? 1 : 0 ) && $mask == $want->{mask} ) { $agree++ }
        else { push @wrong, { check => $c, gatehouse => $want->{mask}, eprints => $mask } }
    }
    is $agree, scalar @answers, "$label: EPrints' allow() agrees with /api/check on all "
        . scalar(@answers) . " cases ($allowed allowed)"
        or do { my %by; $by{"$_->{check}{user} gh=$_->{gatehouse} ep=$_->{eprints}"}++ for @wrong; diag explain \%by; diag explain [ @wrong[ 0 .. ( $#wrong < 3 ? $#wrong : 3 ) ] ] };
    ok $allowed > 0 && $allowed < @answers, "$label: the table has both answers";
    $repo->cleanup;
    ok !exists $repo->{gatehouse_effective}, "$label: cleanup ends the request's memo";
}

# Request 1: one effective call per user, each a 200.
@effective_calls = ();
compare('first request');
is scalar @effective_calls, scalar @gh_users, 'one effective call per user in the request';
is scalar( grep { $_->[1] == 200 } @effective_calls ), scalar @gh_users, 'each a 200';

# Request 2: again one call per user, each answered 304 from the ETag.
@effective_calls = ();
compare('second request');
is scalar @effective_calls, scalar @gh_users, 'again one call per user';
is scalar( grep { $_->[1] == 304 } @effective_calls ), scalar @gh_users, 'each a 304 (ETag revalidation)';

# Changes in Gatehouse are seen on the next request: an entry, a type, a scope, a deny,
# a deactivated account (public privileges only).
$admin->add_user_entry( 'reviewer@example.org', '+eprint/archive/edit:editor' );
$admin->set_user_type( 'depositor@example.org', 'minuser' );
$admin->set_user_scope( 'editor.law@example.org', ['divisions=ecs'] );
$admin->grant( effect => 'deny', privilege => 'eprint/buffer/view', target => { kind => 'user', name => 'editor.cs@example.org' } );
$admin->deactivate_user('minimal@example.org');
@effective_calls = ();
compare('after changes');
my %status = map { $_->[0] => $_->[1] } @effective_calls;
is $status{'reviewer@example.org'}, 200, 'the changed user is fetched again (200)';
is $status{'depositor@example.org'}, 200, 'so is the retyped one';
is $status{'minimal@example.org'}, 200, 'and the deactivated one';
{
    my $repo = $t->request;
    my $mini = $repo->user( $local{'minimal@example.org'} );
    is scalar( keys %{ $mini->get_privs } ), 0, 'a deactivated account holds nothing in EPrints';
}
is $status{'admin@example.org'}, 304, 'an unchanged user is still a 304';

# has_role and is_staff follow the Gatehouse type and entries.
my $repo = $t->request;
for my $u (@gh_users) {
    my $eff = $svc->effective( $u->{email} );
    my $user = $repo->user( $local{ $u->{email} } );
    my @want = grep { !/^[+-]/ } @{ $eff->{type_entries} }, @{ $eff->{entries} };
    is_deeply [ $user->get_roles ], \@want, "get_roles of $u->{email}";
    is( ( $user->is_staff ? 1 : 0 ), ( ( grep { $_ eq 'editor' || $_ eq 'admin' } @want ) ? 1 : 0 ),
        "  is_staff" );
}

# Without Gatehouse configured, EPrints' own get_privs runs.
my $plain = EPrints::Repository->new( config => { user_roles => { user => ['general'] } }, db => $t->db );
my $u = $plain->user( $local{'reviewer@example.org'} );
$u->set_value( usertype => 'user' );
ok $u->has_privilege('user/view:owner'), 'no $c->{gatehouse}: EPrints\' own roles';
ok !$u->has_privilege('eprint/archive/edit:editor'), '  and not Gatehouse\'s';

done_testing;
