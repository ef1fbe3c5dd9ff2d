use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;

use Gatehouse::TestServer;

my $s   = Gatehouse::TestServer->start;
my $svc = $s->client( token => $s->service_token('check/any') );
my @users = @{ $s->admin->list_users( limit => 500 )->{users} };

my @items;
for my $status (qw(inbox buffer archive deletion)) {
    for my $owner ( undef, 'depositor@example.org', 'editor.law@example.org' ) {
        for my $fields ( {}, { divisions => ['law'] }, { divisions => ['ecs'], subjects => ['QA'] } ) {
            push @items, { dataset => 'eprint', status => $status,
                owners => [ defined $owner ? $owner : () ], fields => $fields };
        }
    }
}

# who-can with expand=users admits exactly the users check allows.
for my $privilege (qw(eprint/move_archive eprint/edit eprint/view)) {
    for my $item ( @items[ 3, 13, 22, 31 ] ) {
        my $label = "$privilege on $item->{status} owned by @{ $item->{owners} } " . join ',', %{ $item->{fields} };
        my $w = $svc->who_can( privilege => $privilege, item => $item, expand => 'users', limit => 1000 );
        is $w->{privilege}, $privilege, "who-can answers for $label";
        ok ref $w->{types} eq 'ARRAY' && ref $w->{roles} eq 'ARRAY', 'types and roles listed';
        my %admitted = map { $_->{email} => $_->{mask} } @{ $w->{admitted}{items} };
        my $answers = $svc->check_batch( [ map { { user => $_->{email}, privilege => $privilege, item => $item } } @users ] );
        for my $n ( 0 .. $#users ) {
            my $email = $users[$n]{email};
            is( ( exists $admitted{$email} ? 1 : 0 ), ( $answers->[$n]{allowed} ? 1 : 0 ),
                "  $email admitted iff check allows" );
            is $admitted{$email}, $answers->[$n]{mask}, "  $email: same mask" if exists $admitted{$email};
        }
    }
}

# who-can without expand has no admitted list; a bad expand is an error.
my $plain = $svc->who_can( privilege => 'eprint/move_archive', item => $items[13] );
ok !exists $plain->{admitted}, 'no expand: no admitted list';
my $e = eval { $svc->who_can( privilege => 'eprint/edit', expand => 'roles' ); undef } // $@;
is $e->code, 'invalid', 'expand=roles: invalid';

# filter: the items whose conditions match are exactly those check allows.
sub matches {
    my ( $f, $item ) = @_;
    return 1 if $f->{coverage} eq 'all';
    return 0 if $f->{coverage} eq 'none';
    for my $c ( @{ $f->{conditions} } ) {
        next if $c->{status} && !grep { $_ eq ( $item->{status} // '' ) } @{ $c->{status} };
        if ( my $o = $c->{owner} ) {
            next unless grep { $_ eq $o->{id} || ( defined $o->{email} && $_ eq $o->{email} ) } @{ $item->{owners} };
        }
        if ( my $scope = $c->{scope} ) {
            my $in = 0;
            for my $filter (@$scope) {
                my $all = 1;
                for my $field ( keys %$filter ) {
                    my %want = map { $_ => 1 } @{ $filter->{$field} };
                    $all = 0 unless grep { $want{$_} } @{ $item->{fields}{$field} || [] };
                }
                $in ||= $all;
            }
            next unless $in;
        }
        return 1;
    }
    return 0;
}

my %coverage;
for my $u (@users) {
    for my $privilege (qw(eprint/edit eprint/view eprint/move_archive eprint/destroy)) {
        my $f = $svc->filter( user => $u->{email}, privilege => $privilege );
        $coverage{ $f->{coverage} }++;
        is $f->{dataset}, 'eprint', "filter $u->{email} $privilege: dataset from the privilege";
        my $answers = $svc->check_batch( [ map { { user => $u->{email}, privilege => $privilege, item => $_ } } @items ] );
        my @wrong = grep { matches( $f, $items[$_] ) != ( $answers->[$_]{allowed} ? 1 : 0 ) } 0 .. $#items;
        is scalar @wrong, 0, "  the filter selects exactly the allowed items ($f->{coverage})"
            or diag explain { filter => $f, first_wrong => $items[ $wrong[0] ] };
    }
}
ok $coverage{some}, 'some filters have conditions';

my $anon = $svc->filter( anonymous => 1, privilege => 'eprint/view' );
my $answers = $svc->check_batch( [ map { { anonymous => 1, privilege => 'eprint/view', item => $_ } } @items ] );
is scalar( grep { matches( $anon, $items[$_] ) != ( $answers->[$_]{allowed} ? 1 : 0 ) } 0 .. $#items ), 0,
    'anonymous filter agrees with anonymous checks';

$e = eval { $svc->filter( privilege => 'status' ); undef } // $@;
is $e->code, 'invalid', 'a privilege naming no dataset, without dataset: invalid';
like $e->message, qr/dataset/, 'the message names the field';

done_testing;
