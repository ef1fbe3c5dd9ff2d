package EPrints::DataSet;

# Stand-in for EPrints::DataSet: an id and a base id (a virtual dataset such as `buffer`
# has base id `eprint`), the objects of the base dataset held in the stand-in repository's
# "database", and the few lookups the hooks and EPrints' code use.

use strict;
use warnings;

sub new {
    my ( $class, %args ) = @_;
    return bless {%args}, $class;
}

sub id      { $_[0]{id} }
sub base_id { $_[0]{base_id} // $_[0]{id} }

# No metafield objects in the stand-in: no field is a subject field.
sub field { undef }

# $dataset->search( filters => [ { meta_fields => [FIELD], value => 'a b', match => 'EQ',
# merge => 'ANY' }, ... ], custom_order => ... ): the objects of this dataset (a virtual
# dataset: those with that eprint_status) matching every filter, a filter matching when the
# item's value (or one of its values) is one of the filter's space-separated values. The real
# one builds an EPrints::Search; subject fields there also match descendants.
sub search {
    my ( $self, %opts ) = @_;
    my $repo = $self->{repository};
    my $base = $self->base_id;
    my @ids;
    for my $id ( sort { $a <=> $b } keys %{ $repo->{db}{$base} || {} } ) {
        my $row = $repo->{db}{$base}{$id};
        next if $self->id ne $base && ( $row->{eprint_status} // '' ) ne $self->id;
        my $ok = 1;
        for my $f ( @{ $opts{filters} || [] } ) {
            my %want = map { $_ => 1 } split ' ', $f->{value};
            my $ok_one = 0;
            for my $field ( @{ $f->{meta_fields} } ) {
                my $v = $row->{$field};
                $ok_one ||= grep { defined && $want{$_} } ref $v eq 'ARRAY' ? @$v : ($v);
            }
            $ok &&= $ok_one;
        }
        push @ids, $id if $ok;
    }
    $repo->{searches}++;
    require EPrints::List;
    return EPrints::List->new( session => $repo, dataset => $self, ids => \@ids );
}

sub get_object {
    my ( $self, $repo, $id ) = @_;
    return $self->dataobj($id);
}

sub dataobj {
    my ( $self, $id ) = @_;
    my $repo = $self->{repository};
    my $data = $repo->{db}{ $self->base_id }{ $id // '' } or return undef;
    my $class = $self->base_id eq 'user' ? 'EPrints::DataObj::User' : 'EPrints::DataObj::EPrint';
    # A fresh object from the stored row, as EPrints loads one from the database.
    return $class->new_from_data( $repo, {%$data} );
}

1;
