use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;

use Gatehouse::TestServer;

my $s   = Gatehouse::TestServer->start;
my $svc = $s->client( token => $s->service_token('check/any') );

# The users, privileges and items asked about; every expected answer comes from the server.
my @users = map { $_->{email} } @{ $s->admin->list_users( limit => 500 )->{users} };
ok @users >= 5, 'users listed';
my @privileges = qw(eprint/edit eprint/view eprint/move_archive eprint/archive/edit status user/edit);
my @items = (
    undef,
    { dataset => 'eprint', status => 'buffer', fields => { divisions => ['law'] } },
    { dataset => 'eprint', status => 'archive', owners => ['depositor@example.org'] },
    { dataset => 'eprint', status => 'inbox', owners => ['editor.cs@example.org'],
      fields => { divisions => ['ecs'], subjects => ['QA'] } },
    { dataset => 'user', owners => ['reviewer@example.org'] },
);

my @checks;
for my $u (@users) {
    for my $p (@privileges) {
        for my $i (@items) {
            push @checks, { user => $u, privilege => $p, ( $i ? ( item => $i ) : () ) };
        }
    }
}

# One check, the batch, allowed() and AuthZEN answer alike for every case.
my $batch = $svc->check_batch( \@checks );
is scalar @$batch, scalar @checks, 'one batch answer per check';
my ( $agree, $allowed ) = ( 0, 0 );
for my $n ( 0 .. $#checks ) {
    my $c   = $checks[$n];
    my $one = $svc->check(%$c);
    my $label = "$c->{user} $c->{privilege} " . ( $c->{item} ? JSON::PP->new->canonical->encode( $c->{item} ) : '-' );
    is $one->{mask}, $batch->[$n]{mask}, "mask: $label" or next;
    is( ( $one->{allowed} ? 1 : 0 ), $svc->allowed(%$c), "allowed(): $label" );
    my $i = $c->{item};
    my $az = $svc->evaluation( {
        subject  => { type => 'user', id => $c->{user} },
        action   => { name => $c->{privilege} },
        resource => $i
            ? { type => $i->{dataset}, id => "item$n",
                properties => { status => $i->{status}, owners => $i->{owners} || [], fields => $i->{fields} || {} } }
            : { type => 'gatehouse', id => '-' },
    } );
    is( ( $az->{decision} ? 1 : 0 ), ( $one->{allowed} ? 1 : 0 ), "AuthZEN decision: $label" );
    $allowed++ if $one->{allowed};
}
ok $allowed > 0 && $allowed < @checks, "the table has both answers ($allowed of " . scalar(@checks) . ' allowed)';

# AuthZEN batch: top-level defaults, elements in order, decisions as check's.
my @some = @checks[ 0 .. 29 ];
my $azb = $svc->evaluations( {
    action      => { name => 'eprint/edit' },
    evaluations => [ map {
        my $i = $_->{item};
        { subject => { type => 'user', id => $_->{user} },
          action  => { name => $_->{privilege} },
          resource => $i
            ? { type => $i->{dataset}, id => 'x', properties => { status => $i->{status}, owners => $i->{owners} || [], fields => $i->{fields} || {} } }
            : { type => 'gatehouse', id => '-' } }
    } @some ],
} );
is scalar @{ $azb->{evaluations} }, scalar @some, 'AuthZEN batch: one decision per element';
is_deeply [ map { $_->{decision} ? 1 : 0 } @{ $azb->{evaluations} } ],
    [ map { $_->{allowed} ? 1 : 0 } @{$batch}[ 0 .. 29 ] ], 'AuthZEN batch decisions are check\'s';

# Asking about oneself needs no check/any; asking about another does.
my $dora = $s->client;
$dora->login( login => 'depositor@example.org', password => 'change-me-depositor' );
my $own = $dora->check( privilege => 'eprint/edit',
    item => { dataset => 'eprint', status => 'inbox', owners => ['depositor@example.org'] } );
is $own->{mask}, $svc->check( user => 'depositor@example.org', privilege => 'eprint/edit',
    item => { dataset => 'eprint', status => 'inbox', owners => ['depositor@example.org'] } )->{mask},
    'a user asking about themselves gets the same answer';
my $e = eval { $dora->check( user => 'editor.law@example.org', privilege => 'eprint/edit' ); undef } // $@;
is $e->status, 403, 'asking about another user without check/any: 403';
is $e->code, 'forbidden', 'forbidden';

# A bad check is an error in its place in a batch, and an exception alone.
my $mixed = $svc->check_batch( [ { user => 'depositor@example.org', privilege => 'status' },
    { user => 'nobody@example.org', privilege => 'status' } ] );
ok exists $mixed->[0]{allowed}, 'first: a decision';
is $mixed->[1]{error}{code}, 'not_found', 'second: not_found in place';
$e = eval { $svc->check( user => 'nobody@example.org', privilege => 'status' ); undef } // $@;
is $e->code, 'not_found', 'alone: dies with not_found';
is $e->status, 404, 'status 404';
$e = eval { $svc->check( user => 'depositor@example.org', privilege => 'status', item => { dataset => 'eprint', colour => 'red' } ); undef } // $@;
is $e->status, 422, 'unknown item field: 422';
is $e->code, 'invalid', 'invalid';

done_testing;
