use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/../../Gatehouse-Client/lib", "$FindBin::Bin/../../Gatehouse-Client/t/lib";
use Test::More;

use GatehouseEPrintsTest;
use Gatehouse::EPrints;

# The review list (EPrints::DataObj::User::editable_eprints_list, used by Screen::Review and
# editor alerts) holds exactly the eprints whose editor bit Gatehouse's check sets: a list
# that agrees with the checks.

my $t     = GatehouseEPrintsTest->new;
my $s     = $t->server;
my $admin = $s->admin;
my $svc   = $s->client( token => $s->service_token('check/any') );

my @gh_users = @{ $admin->list_users( limit => 500 )->{users} };
my %local;
{
    my $repo = $t->request;
    $local{ $_->{email} } = Gatehouse::EPrints::sync_local_user( $repo, $_ )->get_id for @gh_users;
}

# Stored eprints in two statuses with assorted subject and division values.
my @field_sets = (
    {}, { divisions => ['law'] }, { divisions => ['ecs'], subjects => ['QA'] },
    { divisions => ['ecs'], subjects => ['QA76'] }, { divisions => [ 'law', 'ecs' ], subjects => ['K'] },
    { divisions => ['ecs'] }, { subjects => ['QA'] },
);
my $id = 0;
for my $status (qw(buffer archive)) {
    for my $fields (@field_sets) {
        $id++;
        $t->db->{eprint}{$id} = { eprintid => $id, eprint_status => $status, %$fields };
    }
}

sub item_of {
    my ($row) = @_;
    return { dataset => 'eprint', status => $row->{eprint_status},
        fields => { map { $_ => $row->{$_} } grep { ref $row->{$_} eq 'ARRAY' } keys %$row } };
}

sub compare {
    my ($label) = @_;
    my $repo = $t->request;
    my $compared = 0;
    for my $u (@gh_users) {
        my $eff = $svc->effective( $u->{email} );
        next unless grep { $_ eq 'eprint/buffer/move_archive:editor' } @{ $eff->{privileges} };
        my @rows = grep { $_->{eprint_status} eq 'buffer' } map { $t->db->{eprint}{$_} } sort { $a <=> $b } keys %{ $t->db->{eprint} };
        my $answers = $svc->check_batch( [ map { { user => $u->{email}, privilege => 'eprint/move_archive', item => item_of($_) } } @rows ] );
        my @want = map { $rows[$_]{eprintid} } grep { $answers->[$_]{editor} } 0 .. $#rows;
        my $list = $repo->user( $local{ $u->{email} } )->editable_eprints_list( dataset => $repo->dataset('buffer') );
        is_deeply [ sort { $a <=> $b } @{ $list->ids } ], \@want,
            "$label: review list of $u->{email} = the buffer items check gives the editor bit (@want)";
        $compared++;
    }
    ok $compared >= 3, "$label: $compared users with the review privilege compared";
    $repo->cleanup;
}

compare('as loaded');
my $lena = $svc->effective('editor.law@example.org');
ok @{ $lena->{editorial_scope} }, 'a scoped editor is among them';

# Scope changes in Gatehouse change the list on the next request.
$admin->set_user_scope( 'editor.law@example.org', [ 'divisions=ecs;subjects=QA', 'subjects=K' ] );
$admin->set_user_scope( 'editor.cs@example.org', [] );
$admin->add_user_entry( 'reviewer@example.org', 'editperms_none_by_default' ) if grep { $_->{name} eq 'editperms_none_by_default' } @{ $admin->list_roles };
compare('after scope changes');

done_testing;
