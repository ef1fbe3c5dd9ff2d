package EPrints::DataObj::EPrint;

# Stand-in for EPrints::DataObj::EPrint: `get_dataset` gives the virtual dataset named by
# eprint_status (base id `eprint`), `has_owner` is copied verbatim from eprints3.4
# perl_lib/EPrints/DataObj/EPrint.pm (HEAD ca3f792; only `// -1` added for an eprint
# without userid, which EPrints compares as undef == 0 with a warning), and `in_editorial_scope_of` follows
# EPrints' logic over the local `editperms` field with search matching reduced to "every
# field of the search shares a value with the item" (the real one runs a database search).

use strict;
use warnings;

use EPrints::DataObj;
our @ISA = ('EPrints::DataObj');

sub new_from_data {
    my ( $class, $session, $data ) = @_;
    my $self = $class->SUPER::new_from_data( $session, $data, undef );
    return $self;
}

sub get_id { $_[0]{data}{eprintid} }

sub get_dataset {
    my ($self) = @_;
    return $self->{session}->dataset( $self->get_value('eprint_status') );
}

sub has_owner
{
	my( $self, $possible_owner ) = @_;

	my $fn = $self->{session}->get_repository->get_conf( "does_user_own_eprint" );

	if( !defined $fn )
	{
		if( $possible_owner->get_value( "userid" ) == ( $self->get_value( "userid" ) // -1 ) )
		{
			return 1;
		}
		return 0;
	}

	return &$fn( $self->{session}, $possible_owner, $self );
}

sub in_editorial_scope_of
{
	my( $self, $possible_editor ) = @_;

	my $searches = $possible_editor->get_value( 'editperms' ) || [];
	if( scalar @{$searches} == 0 )
	{
		my $has_role = $possible_editor->has_role( 'editperms_none_by_default' );
		return ($has_role) ? 0 : 1;
	}

	foreach my $s ( @{$searches} )
	{
		my $ok = 1;
		for my $field ( keys %$s )
		{
			my $have = $self->get_value( $field ) || [];
			my %want = map { $_ => 1 } @{ $s->{$field} };
			$ok = 0 unless grep { $want{$_} } @$have;
		}
		return 1 if $ok;
	}

	return 0;
}

1;
