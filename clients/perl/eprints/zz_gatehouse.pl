######################################################################
#
# zz_gatehouse.pl: EPrints 3.4 (and 3.3) log in, current user and privileges from Gatehouse.
#
# Copy to archives/ARCHIVEID/cfg/cfg.d/zz_gatehouse.pl (the zz_ prefix makes EPrints load
# it after user_roles.pl and user_login.pl), set the two values below, install the
# Gatehouse::Client distribution (it holds Gatehouse::EPrints), then `epadmin test ARCHIVEID`
# and restart Apache. Step by step: docs/integrations/eprints.md in the Gatehouse repository.
#
# What this file changes in EPrints:
#
# 1. $c->{check_user_password}, called by EPrints::Repository::valid_login( $username,
#    $password ) from the log in screen (Screen::Login::Internal), REST and SWORD basic
#    auth: the name and password are checked by Gatehouse (POST /api/login; email or
#    username). On success the local EPrints user is created (EPrints::DataObj::User::create
#    ( $repo, $usertype )) or updated (email, name, usertype), the Gatehouse session is ended
#    again (EPrints issues its own log in ticket), and the local username is returned, which
#    valid_login takes as the real username. Refused (wrong password, unknown user,
#    unconfirmed or disabled account, throttled, Gatehouse unreachable): 0. Local passwords
#    are no longer used.
#
# 2. $c->{get_current_user}, called by EPrints::Repository::current_user before EPrints' own
#    cookie and basic auth: a request carrying `Authorization: Bearer TOKEN` (a Gatehouse
#    token from POST /api/login) or Gatehouse's `gatehouse_session` cookie is resolved with
#    GET /api/me to the local user (created or updated as above). Without one, undef: EPrints
#    goes on to its own log in ticket.
#
# 3. Gatehouse::EPrints->install wraps, once per Apache process:
#    - EPrints::DataObj::User::get_privs( $self ): the hash that has_privilege( $priv )
#      reads (`return $self->get_privs->{$priv}`) is the user's effective set from Gatehouse
#      (GET /api/users/EMAIL/effective with the service token), fetched once per request and
#      user (memoised on the repository object, which Repository::cleanup empties at the end
#      of each request) and revalidated across requests with its ETag (If-None-Match -> 304,
#      the answer reused); the built hash is cached by the answer's generation. A superuser
#      (`superuser-access`) holds every plain string not denied to them (bit 2), as in
#      Gatehouse's check; their `:owner` / `:editor` strings are those listed.
#    - EPrints::DataObj::User::get_roles( $self ) (so has_role and is_staff): the Gatehouse
#      type's entries and the user's own entries, without +/- entries, as EPrints does.
#    - EPrints::DataObj::EPrint::in_editorial_scope_of( $self, $user ): the user's Gatehouse
#      editorial scope (filters `field=v,v;field=v`, OR-ed; subjects and divisions match
#      descendants), instead of the local `editperms` field.
#    - EPrints::DataObj::User::editable_eprints_list( $self, %opts ) (the review list of
#      Screen::Review and editor alerts): the eprints of $opts{dataset} in that same scope,
#      one search per filter, OR-ed, so the list shows exactly what the checks admit.
#    EPrints' own allow( $priv, $item ), has_privilege, DataObj::permit (the 1/2/4/8 mask),
#    has_owner (eprint.userid) and allow_anybody (public privileges: keep $c->{public_roles}
#    as `gatehouse policy convert` writes it) are unchanged, so every screen, REST and CRUD
#    call decides as before, from Gatehouse's data. Repositories without
#    $c->{gatehouse}->{url} keep EPrints' own behaviour.
#
######################################################################

use Gatehouse::EPrints;

# Where Gatehouse is, and a service token holding `check/any`, made with
#   gatehouse tokens create eprints-ARCHIVEID --privilege check/any
$c->{gatehouse}->{url}           //= 'https://gatehouse.example.org';
$c->{gatehouse}->{service_token} //= 'paste the token here';

# Optional:
# $c->{gatehouse}->{timeout} = 5;            # seconds per call to Gatehouse
# $c->{gatehouse}->{retries} = 2;            # retries of a 503
# $c->{gatehouse}->{usertype_map} = { admin => 'admin', editor => 'editor' };  # Gatehouse type -> local usertype
# $c->{gatehouse}->{default_usertype} = 'user';  # for Gatehouse users without a type
# $c->{gatehouse}->{create_users} = 1;       # create the local user at first log in
# $c->{gatehouse}->{update_users} = 1;       # bring email, name, usertype up to date at each log in
# $c->{gatehouse}->{local_fallback} = 0;     # 1: local users Gatehouse does not know keep EPrints' own privileges
# $c->{gatehouse}->{keep_session} = 0;       # 1: keep the Gatehouse session opened by the log in
# $c->{gatehouse}->{forward_client_address} = 1;  # send the person's address as X-Forwarded-For
#                                            # (Gatehouse believes it if this host is in server.trusted_proxies)

$c->{check_user_password} = sub {
	my( $repo, $username, $password ) = @_;

	return Gatehouse::EPrints::check_user_password( $repo, $username, $password );
};

$c->{get_current_user} = sub {
	my( $repo ) = @_;

	return Gatehouse::EPrints::get_current_user( $repo );
};

Gatehouse::EPrints->install;
