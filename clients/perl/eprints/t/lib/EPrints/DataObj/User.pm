package EPrints::DataObj::User;

# Stand-in for EPrints::DataObj::User with EPrints 3.4's names and signatures. `allow`,
# `has_privilege`, `get_privs`, `get_roles`, `has_role`, `is_staff` and `has_owner` are copied
# verbatim from eprints3.4 perl_lib/EPrints/DataObj/User.pm (HEAD ca3f792); $PRIVMAP holds
# only two built-in roles, enough for EPrints' own get_privs to run when Gatehouse is not
# configured. `create`, `create_from_data`, `new` and `user_with_username` keep their
# signatures but read and write the stand-in repository's "database".

use strict;
use warnings;

use EPrints::DataObj;
use EPrints::List;
our @ISA = ('EPrints::DataObj');

our $PRIVMAP = {
    general         => [ 'user/view:owner', 'user/details:owner', 'user/history:owner' ],
    'edit-own-record' => ['user/edit:owner'],
};

sub new
{
	my( $class, $session, $userid ) = @_;

	return $session->dataset( "user" )->get_object( $session, $userid );
}

sub new_from_data
{
	my( $class, $session, $known ) = @_;

	return $class->SUPER::new_from_data(
			$session,
			$known,
			$session->dataset( "user" ) );
}

# EPrints::DataObj::User::create( $session, $user_type ): a function.
sub create
{
	my( $session, $user_type ) = @_;

	return EPrints::DataObj::User->create_from_data(
		$session,
		{ usertype=>$user_type },
		$session->dataset( "user" ) );
}

sub create_from_data
{
	my( $class, $session, $data, $dataset ) = @_;

	my $db = $session->{db}{user} //= {};
	my $userid = 1 + ( ( sort { $b <=> $a } keys %$db )[0] // 0 );
	my $user = $class->new_from_data( $session, { %$data, userid => $userid } );
	$user->{changed} = { map { $_ => undef } keys %{ $user->{data} } };
	$user->commit;
	$session->{created_users}++;
	return $user;
}

sub get_id { $_[0]{data}{userid} }

sub is_set {
    my ( $self, $field ) = @_;
    my $v = $self->{data}{$field};
    return ref $v eq 'ARRAY' ? scalar @$v : defined $v && length $v;
}

# EPrints 3.4's editable_eprints_list, with the editperms search reduced as in
# EPrint::in_editorial_scope_of: stored searches are hashes field -> [values].
sub editable_eprints_list
{
	my( $self, %opts ) = @_;

	$opts{dataset} = $self->{session}->dataset( "eprint" ) if !defined $opts{dataset};

	if( !$self->is_set( 'editperms' ) )
	{
		return $opts{dataset}->search(
			custom_order => "-datestamp",
			%opts );
	}

	my ( %seen, @ids );
	foreach my $sv ( @{$self->get_value( 'editperms' )} )
	{
		my @conds = map { { meta_fields => [$_], value => join( ' ', @{ $sv->{$_} } ), match => 'EQ', merge => 'ANY' } } sort keys %$sv;
		my $list = $opts{dataset}->search( %opts, filters => [ @{ $opts{filters} || [] }, @conds ] );
		push @ids, grep { !$seen{$_}++ } @{ $list->ids };
	}

	return EPrints::List->new(
		session => $self->{session},
		dataset => $opts{dataset},
		ids => \@ids,
		order => "-datestamp" );
}

sub user_with_username
{
	my( $repo, $username ) = @_;

	# EPrints: a case-insensitive lookup, then an exact search on username.
	for my $row ( values %{ $repo->{db}{user} || {} } )
	{
		next unless defined $row->{username} && lc $row->{username} eq lc $username;
		return $repo->dataset( "user" )->dataobj( $row->{userid} );
	}
	return undef;
}

sub user_with_email
{
	my( $repo, $email ) = @_;

	for my $row ( values %{ $repo->{db}{user} || {} } )
	{
		next unless defined $row->{email} && lc $row->{email} eq lc $email;
		return $repo->dataset( "user" )->dataobj( $row->{userid} );
	}
	return undef;
}

# --- verbatim from EPrints 3.4 User.pm -------------------------------------------------------

sub has_owner
{
	my( $self, $possible_owner ) = @_;

	if( $possible_owner->get_value( "userid" ) == $self->get_value( "userid" ) )
	{
		return 1;
	}

	return 0;
}

sub is_staff
{
	my( $self ) = @_;

	return $self->has_role( "editor" ) || $self->has_role( "admin" );
}

sub allow
{
    my( $self, $priv, $item ) = @_;

    my $r = 0;

    $r |= 1 if $self->{session}->allow_anybody( $priv );

    $r |= 2 if $self->has_privilege( $priv );

    $r |= $item->permit( $priv, $self ) if defined $item;

    return $r;
}

sub has_privilege
{
    my( $self, $priv ) = @_;

    return $self->get_privs->{$priv};
}

sub get_privs
{
    my( $self ) = @_;

    return $self->{".privs"} if( defined $self->{".privs"} ) ;

    my $rep = $self->{session}->get_repository;
    my $role_config = $rep->get_conf( "user_roles", $self->get_value( "usertype" ) );
    my $extra_roles = $self->get_value( "roles" ) || [];

    my %privmap = %{$PRIVMAP};

    # extra hats defined in this repository
    my %override_roles = %{$rep->get_conf( "roles" )||{}};
    foreach my $role_id ( keys %override_roles )
    {
        $privmap{$role_id} = $override_roles{$role_id};
    }

    $self->{".privs"} = {};
    foreach my $role ( @{$role_config}, @{$extra_roles} )
    {
        if( $role =~ m/^\+(.*)$/ )
        {
            $self->{".privs"}->{$1} = 1;
            next;
        }

        if( $role =~ m/^-(.*)$/ )
        {
            delete $self->{".privs"}->{$1};
            next;
        }
		
		foreach my $priv ( @{$privmap{$role}} )
        {
            if( $priv =~ m/^\+(.*)$/ )
            {
                $self->{".privs"}->{$1} = 1;
                next;
            }
            if( $priv =~ m/^-(.*)$/ )
            {
                delete $self->{".privs"}->{$1};
                next;
            }
            $self->{".privs"}->{$priv} = 1;
        }
    }

    return $self->{".privs"};
}

sub get_roles
{
    my( $self ) = @_;

    my $rep = $self->{session}->get_repository;
    my $role_config = $rep->get_conf( "user_roles", $self->get_value( "usertype" ) );
    my $extra_roles = $self->get_value( "roles" ) || [];
    my @roles = ();
    foreach my $role ( @{$role_config}, @{$extra_roles} )
    {
        next if( $role =~ m/^[+-]/ );
        push @roles, $role;
    }

    return @roles;
}

sub has_role
{
    my( $self, $roleid ) = @_;

    foreach my $hasid ( $self->get_roles )
    {
        return 1 if $hasid eq $roleid;
    }

    return 0;
}

1;
