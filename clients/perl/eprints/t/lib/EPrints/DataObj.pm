package EPrints::DataObj;

# Stand-in for EPrints::DataObj. `permit` is copied verbatim from eprints3.4
# perl_lib/EPrints/DataObj.pm (HEAD ca3f792); has_owner and in_editorial_scope_of are the
# base class defaults (0 and 1). Values live in $self->{data}; `commit` writes the changed
# ones back to the stand-in repository's "database".

use strict;
use warnings;

sub new_from_data {
    my ( $class, $session, $data, $dataset ) = @_;
    return bless {
        session => $session,
        data    => {%$data},
        changed => {},
        dataset => $dataset,
    }, $class;
}

sub get_value { $_[0]{data}{ $_[1] } }
sub value     { $_[0]{data}{ $_[1] } }

sub set_value {
    my ( $self, $field, $value ) = @_;
    $self->{changed}{$field} = $self->{data}{$field};
    $self->{data}{$field} = $value;
    return;
}

sub get_dataset { $_[0]{dataset} }

sub commit {
    my ($self) = @_;
    my $ds  = $self->get_dataset;
    my $key = $ds->base_id . 'id';
    my $row = $self->{session}{db}{ $ds->base_id }{ $self->{data}{$key} } //= {};
    $row->{$_} = $self->{data}{$_} for ( $key, keys %{ $self->{changed} } );
    $self->{session}{commits}++;
    $self->{changed} = {};
    return 1;
}

sub has_owner             { 0 }
sub in_editorial_scope_of { 1 }

# verbatim from EPrints 3.4 DataObj.pm
sub permit
{
	my( $self, $priv, $user ) = @_;

	my $r = 0;

	my $dataset = $self->get_dataset;

	my $vpriv = $priv;
	if( $dataset->id ne $dataset->base_id )
	{
		my $id = $dataset->id;
		my $base_id = $dataset->base_id;
		$vpriv =~ s{^$base_id/}{$base_id/$id/};
	}

	for( $priv eq $vpriv ? ($priv) : ($priv, $vpriv) )
	{
		$r |= 1 if $self->{session}->allow_anybody( $_ );

		if( defined $user )
		{
			$r |= 2 if $user->has_privilege( $_ );

			$r |= 4 if $self->has_owner( $user ) && $user->has_privilege( "$_:owner" );

			$r |= 8 if $self->in_editorial_scope_of( $user ) && $user->has_privilege( "$_:editor" );
		}
	}

	return $r;
}

1;
