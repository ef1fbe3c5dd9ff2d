use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;

use Gatehouse::TestServer;

my $s     = Gatehouse::TestServer->start;
my $svc   = $s->client( token => $s->service_token('check/any') );
my $admin = $s->admin;
my $who   = 'reviewer@example.org';

# First read: 200 with the body; the ETag is the quoted generation.
my $first = $svc->effective($who);
is $svc->last_status, 200, 'first read: 200';
is $first->{email}, $who, 'the user';
ok length $first->{generation}, 'a generation';
is $svc->{etag_cache}{$who}{etag}, qq("$first->{generation}"), 'ETag is the quoted generation';
my $user = $admin->get_user($who);
is_deeply $first->{entries}, $user->{roles}, 'entries are the user record\'s roles';

# Second read: If-None-Match -> 304, and the very same copy comes back.
my $second = $svc->effective($who);
is $svc->last_status, 304, 'second read: 304';
is $second, $first, 'the cached copy is reused (same reference)';

# A different user by id is cached separately.
my $by_id = $svc->effective( $user->{id} );
is $svc->last_status, 200, 'by id: its own first read';
is $by_id->{generation}, $first->{generation}, 'same user, same generation';

# A change the answer depends on: the next read is a 200 with a new generation.
my $entry = '+eprint/buffer/edit:editor';
ok !( grep { $_ eq 'eprint/buffer/edit:editor' } @{ $first->{privileges} } ), 'not held before';
$admin->add_user_entry( $who, $entry );
my $third = $svc->effective($who);
is $svc->last_status, 200, 'after a change: 200';
isnt $third->{generation}, $first->{generation}, 'a new generation';
ok( ( grep { $_ eq 'eprint/buffer/edit:editor' } @{ $third->{privileges} } ), 'the new privilege is there' );
is $third->{entries}[-1], $entry, 'the new entry is there';
$svc->effective($who);
is $svc->last_status, 304, 'and is cached again';

# A grant to a role changes the generation too.
$admin->grant( effect => 'deny', privilege => 'eprint/buffer/view:editor',
    target => { kind => 'role', name => 'approve-hat' } );
my $fourth = $svc->effective($who);
is $svc->last_status, 200, 'after a deny to one of their roles: 200';
ok( ( grep { $_ eq 'eprint/buffer/view:editor' } @{ $fourth->{denied} } ), 'the deny is listed' );

# cache => 0 always asks; forget_effective drops the copy.
$svc->effective( $who, cache => 0 );
is $svc->last_status, 200, 'cache => 0: 200';
$svc->forget_effective($who);
$svc->effective($who);
is $svc->last_status, 200, 'after forget_effective: 200';

# The privileges agree with check: every listed string is allowed without an item.
my @plain = grep { !/:(?:owner|editor)\z/ } @{ $fourth->{privileges} };
my $answers = $svc->check_batch( [ map { { user => $who, privilege => $_ } } @plain ] );
is scalar( grep { $_->{user} } @$answers ), scalar @plain, 'every plain string held is bit 2 in check';

# A user reads their own; another's needs check/any.
my $dora = $s->client;
$dora->login( login => 'depositor@example.org', password => 'change-me-depositor' );
is $dora->effective('depositor@example.org')->{username}, 'dora', 'own effective set';
my $e = eval { $dora->effective($who); undef } // $@;
is $e->code, 'forbidden', 'another user\'s: forbidden';
$e = eval { $svc->effective('nobody@example.org'); undef } // $@;
is $e->code, 'not_found', 'unknown user: not_found';
is $e->status, 404, 'status 404';

done_testing;
