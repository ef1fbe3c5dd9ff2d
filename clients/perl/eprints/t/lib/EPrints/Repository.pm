package EPrints::Repository;

# Stand-in for EPrints::Repository (the "session" of EPrints 3.4). `current_user`,
# `valid_login`, `allow_anybody`, `user`, `user_by_username`, `user_by_email` and `cleanup`
# are copied from eprints3.4 perl_lib/EPrints/Repository.pm (HEAD ca3f792); EPrints' own
# cookie and basic authentication find nobody here (no login ticket database). The
# "database" is $self->{db}{user}{USERID} and $self->{db}{eprint}{EPRINTID}, shared between
# the repository objects of successive requests like a real database.

use strict;
use warnings;

use EPrints::DataSet;
use EPrints::DataObj::User;
use EPrints::DataObj::EPrint;

# Keys that survive cleanup (EPrints keeps config, caches and the database handle).
my %CACHED = map { $_ => 1 } qw( config db id log_lines );

sub new {
    my ( $class, %args ) = @_;
    return bless {
        config    => $args{config} || {},
        db        => $args{db} || {},
        request   => $args{request},
        id        => $args{id} // 'test',
        log_lines => $args{log_lines} || [],
    }, $class;
}

sub get_repository { $_[0] }
sub get_id         { $_[0]{id} }

sub config {
    my ( $self, $key, @subkeys ) = @_;
    my $v = $self->{config}{$key};
    for my $k (@subkeys) {
        return undef unless ref $v eq 'HASH';
        $v = $v->{$k};
    }
    return $v;
}
sub get_conf { shift->config(@_) }

sub can_call {
    my ( $self, @path ) = @_;
    return ref $self->config(@path) eq 'CODE';
}

sub call {
    my ( $self, $cmd, @params ) = @_;
    my @path = ref $cmd eq 'ARRAY' ? @$cmd : ($cmd);
    my $fn = $self->config(@path);
    return $fn->(@params);
}

sub get_request { &request }
sub request     { $_[0]{request} }

sub log {
    my ( $self, $msg ) = @_;
    push @{ $self->{log_lines} }, $msg;
    return;
}

sub dataset {
    my ( $self, $id ) = @_;
    my %base = ( map { $_ => 'eprint' } qw(inbox buffer archive deletion eprint) );
    $base{user} = 'user';
    return undef unless $base{$id};
    return EPrints::DataSet->new( id => $id, base_id => $base{$id}, repository => $self );
}

sub user($$)
{
	my( $repository, $user_id ) = @_;

	return $repository->dataset( "user" )->get_object( $repository, $user_id );
}

sub user_by_username($$)
{
	my( $repository, $username ) = @_;

	return EPrints::DataObj::User::user_with_username( $repository, $username )
}

sub user_by_email($$)
{
	my( $repository, $email ) = @_;

	return EPrints::DataObj::User::user_with_email( $repository, $email )
}

sub current_user
{
	my( $self ) = @_;

	if( $self->{offline} )
	{
		return undef;
	}

	if( $self->{logged_out} )
	{	
		return undef;
	}

	if( !defined $self->{current_user} )
	{
		return undef if( $self->{already_in_current_user} );
		$self->{already_in_current_user} = 1;

		# custom auth
		if( $self->get_repository->can_call( 'get_current_user' ) )
		{
			$self->{current_user} = $self->get_repository->call( 'get_current_user', $self );
		}
		# cookie auth
		if( !defined $self->{current_user} )
		{
			$self->{current_user} = $self->_current_user_auth_cookie;
		}
		# basic auth
		if( !defined $self->{current_user} )
		{
			$self->{current_user} = $self->_current_user_auth_basic;
		}
		$self->{already_in_current_user} = 0;
	}
	return $self->{current_user};
}

# No login tickets or basic auth in the stand-in.
sub _current_user_auth_cookie { undef }
sub _current_user_auth_basic  { undef }

my $PUBLIC_PRIVS =
{
	"eprint_search" => 1,
	"eprint/archive/view" => 1,
	"eprint/archive/export" => 1,
	"subject/view" => 1,
	"subject/export" => 1,
	"saved_search/public_saved_search/export" => 1,
	"saved_search/public_saved_search/view" => 1,
};

sub allow_anybody
{
	my( $repository, $priv ) = @_;

	return 1 if( $PUBLIC_PRIVS->{$priv} );

	# This doesn't understand actual roles, just +priv 
	# we might extend it later if there's a need. 
	my $public_roles = $repository->config( "public_roles" );
	if( $public_roles ) 
	{
		foreach my $role_id ( @{$public_roles} )
		{
			return 1 if( $role_id eq "+".$priv );
		}
	}

	return 0;
}

sub valid_login
{
	my( $self, $username, $password ) = @_;

	my $real_username;
	
	my $user = user_by_username( $self, $username );

	my $loginattempts = 0;
	my $unlocktime = 0;
	my $max_login_attempts = 100; # Set default that cannot be reached if user not defined
	if ( defined $user )
	{
		$loginattempts = $user->get_value( "loginattempts" ) || 0;
		$unlocktime = $user->get_value( "unlocktime" ) || 0;
		$max_login_attempts = $self->get_conf( "max_login_attempts" ) || 100; # Set default unlikely to be reached if no configuration.
	}	
	
	if ( $unlocktime && ( $unlocktime <= time() || $loginattempts < $max_login_attempts ) )
	{	
		$loginattempts = 0 if $unlocktime <= time();
		$unlocktime = undef;
		$user->set_value( "unlocktime", undef );
	}
	return if $unlocktime > time();
	$loginattempts++;
	$user->set_value( "loginattempts", $loginattempts ) if defined $user;
	
	if( $self->can_call( "check_user_password" ) )
	{
		$real_username = $self->call( "check_user_password",
			$self,
			$username,
			$password
		);
		# check_user_password normally returns '1' or '0'
		if( defined $real_username )
		{
			if( $real_username eq "1" )
			{
				$real_username = $username;
			}
			elsif( $real_username eq "0" )
			{
				$real_username = undef;
			}
		}
	}
	else
	{
		$real_username = undef; # no local password database in the stand-in
	}

	if ( defined $user )
	{
		if ( defined $real_username && length $real_username )
		{
			$user->set_value( "loginattempts", 0 );
			$user->set_value( "unlocktime", undef );
		}
		elsif ( $loginattempts >= $max_login_attempts )
		{
			my $unlocktime = time() + ( $self->get_conf( "lockout_minutes" ) || 10 ) * 60;
			$user->set_value( "unlocktime", $unlocktime );
		}

		$user->commit;
	}

	return $real_username;
}

sub cleanup
{
	my( $self ) = @_;

	for(keys %$self)
	{
		delete $self->{$_} if !$CACHED{$_};
	}

	$self->{offline} = 1;
}

1;
