package Gatehouse::EPrints;

# The EPrints side of Gatehouse: the code behind clients/perl/eprints/zz_gatehouse.pl.
# Kept in a module so that the cfg.d file stays short and so that re-reading the
# configuration (epadmin reload, "Reload configuration") never wraps a wrapper twice.

use strict;
use warnings;

our $VERSION = '0.01';

use Scalar::Util qw(blessed);
use Gatehouse::Client;

# The EPrints subs replaced by `install`, keyed "Package::sub", with the original code.
our %ORIGINAL;

# Process-wide: one Gatehouse::Client per (url, service token); each holds the ETag cache
# of `effective` answers, so a request after the first costs a 304.
our %CLIENT;

# Process-wide: privilege hashes built from an effective answer, keyed by "id:generation".
our %PRIVS;
our $PRIVS_MAX = 10_000;

# --- configuration ----------------------------------------------------------------------------

sub conf {
    my ($repo) = @_;
    my $conf = eval { $repo->config('gatehouse') };
    return undef unless ref $conf eq 'HASH' && $conf->{url};
    return $conf;
}

sub _log {
    my ( $repo, $message ) = @_;
    if ( blessed $repo && $repo->can('log') ) { $repo->log("Gatehouse: $message") }
    else                                       { warn "Gatehouse: $message\n" }
    return;
}

sub _describe {
    my ($e) = @_;
    return blessed $e && $e->isa('Gatehouse::Client::Error')
        ? $e->code . ' (' . $e->status . '): ' . $e->message
        : "$e";
}

# The service client (token with `check/any`), shared by every request of this process.
sub client {
    my ($repo) = @_;
    my $conf = conf($repo) or return undef;
    my $key = join "\0", $conf->{url}, $conf->{service_token} // '';
    return $CLIENT{$key} //= Gatehouse::Client->new(
        base_url => $conf->{url},
        token    => $conf->{service_token},
        timeout  => $conf->{timeout} // 5,
        retries  => $conf->{retries} // 2,
    );
}

# A client with no credential (or a user's), for log in and for resolving a user's token.
sub _user_client {
    my ( $repo, %cred ) = @_;
    my $conf = conf($repo);
    return Gatehouse::Client->new(
        base_url => $conf->{url},
        timeout  => $conf->{timeout} // 5,
        retries  => $conf->{retries} // 2,
        %cred,
    );
}

# --- local users --------------------------------------------------------------------------------

sub _usertype {
    my ( $conf, $gh_type ) = @_;
    my $map = $conf->{usertype_map} || {};
    return $map->{$gh_type} if defined $gh_type && exists $map->{$gh_type};
    return $gh_type if defined $gh_type && length $gh_type;
    return $conf->{default_usertype} // 'user';
}

sub _name {
    my ($full) = @_;
    return undef unless defined $full && $full =~ /\S/;
    $full =~ s/^\s+|\s+$//g;
    my ( $given, $family ) = $full =~ /\A(.*\S)\s+(\S+)\z/ ? ( $1, $2 ) : ( undef, $full );
    return { given => $given, family => $family };
}

# The local EPrints user for a Gatehouse user (the `user` object of /api/login or /api/me),
# created if missing (EPrints' screens need one) and brought up to date: email, name,
# usertype. Returns the EPrints::DataObj::User, or undef.
sub sync_local_user {
    my ( $repo, $gh_user ) = @_;
    my $conf = conf($repo) or return undef;
    return undef unless ref $gh_user eq 'HASH' && defined $gh_user->{email};
    my $username = defined $gh_user->{username} && length $gh_user->{username}
        ? $gh_user->{username}
        : $gh_user->{email};
    my $type = _usertype( $conf, $gh_user->{type} // $gh_user->{user_type} );

    # The same person: the local user with this email, else the one with this username if it
    # has no email or the same one. A local account with the username and another email
    # belongs to someone else: refuse rather than take it over.
    my $changed = 0;
    my $user = $repo->can('user_by_email') ? $repo->user_by_email( $gh_user->{email} ) : undef;
    if ( !$user ) {
        $user = $repo->user_by_username($username);
        my $email = $user ? $user->get_value('email') : undef;
        if ( defined $email && length $email && lc $email ne lc $gh_user->{email} ) {
            _log( $repo, "local user `$username` has email $email, not $gh_user->{email}: not the same person; refused" );
            return undef;
        }
    }
    if ( !$user ) {
        return undef unless $conf->{create_users} // 1;
        # EPrints::DataObj::User::create( $session, $user_type ) is a function, not a method.
        $user = EPrints::DataObj::User::create( $repo, $type ) or return undef;
        $user->set_value( 'username', $username );
        $changed++;
        _log( $repo, "created local user `$username` for $gh_user->{email}" );
    }
    elsif ( !( $conf->{update_users} // 1 ) ) {
        return $user;
    }
    my %want = ( email => $gh_user->{email}, usertype => $type );
    for my $field ( sort keys %want ) {
        my $have = $user->get_value($field);
        next if defined $have && $have eq $want{$field};
        $user->set_value( $field, $want{$field} );
        $changed++;
    }
    if ( my $name = _name( $gh_user->{full_name} ) ) {
        my $have = $user->get_value('name') || {};
        if ( ( $have->{given} // '' ) ne ( $name->{given} // '' )
            || ( $have->{family} // '' ) ne ( $name->{family} // '' ) )
        {
            $user->set_value( 'name', $name );
            $changed++;
        }
    }
    $user->commit if $changed;
    return $user;
}

# --- the hooks set by zz_gatehouse.pl -----------------------------------------------------------

# $c->{check_user_password} = sub { my( $repo, $username, $password ) = @_; ... }
# Called by EPrints::Repository::valid_login. Returns the local username on success (EPrints
# takes a string other than "1"/"0" as the real username), 0 on refusal.
sub check_user_password {
    my ( $repo, $username, $password ) = @_;
    my $conf = conf($repo) or return 0;
    return 0 unless defined $username && length $username && defined $password && length $password;
    my $gh = _user_client($repo);
    my %headers;
    if ( $conf->{forward_client_address} // 1 ) {
        my $ip = _client_address($repo);
        $headers{'X-Forwarded-For'} = $ip if defined $ip;
    }
    my $session = eval { $gh->login( login => $username, password => $password, headers => \%headers ) };
    if ( !$session ) {
        _log( $repo, "log in refused for `$username`: " . _describe($@) );
        return 0;
    }
    # EPrints keeps its own log in ticket from here on: end the Gatehouse session at once
    # unless the site wants it (keep_session => 1).
    eval { $gh->logout } unless $conf->{keep_session};
    my $user = sync_local_user( $repo, $session->{user} ) or return 0;
    return $user->get_value('username');
}

# The address of the person logging in (Apache 2.4 useragent_ip, else the connection's),
# so that Gatehouse throttles failed log ins per person rather than per EPrints host. Gatehouse
# believes it only when the EPrints host is in its server.trusted_proxies.
sub _client_address {
    my ($repo) = @_;
    my $r = eval { $repo->get_request } or return undef;
    my $ip = eval { $r->useragent_ip };
    $ip //= eval { $r->connection->client_ip };
    $ip //= eval { $r->connection->remote_ip };
    return defined $ip && length $ip ? $ip : undef;
}

sub _request_credential {
    my ($repo) = @_;
    my $r = eval { $repo->get_request } or return;
    my $headers = eval { $r->headers_in } or return;
    my $auth = $headers->{Authorization} // $headers->{authorization};
    if ( defined $auth && $auth =~ /\A\s*Bearer\s+(\S+)\s*\z/i ) {
        return ( token => $1 );
    }
    my $cookies = $headers->{Cookie} // $headers->{cookie};
    if ( defined $cookies ) {
        for my $c ( split /;\s*/, $cookies ) {
            return ( session_cookie => $1 )
                if $c =~ /\A\s*\Q$Gatehouse::Client::SESSION_COOKIE\E=(\S+)\s*\z/;
        }
    }
    return;
}

# $c->{get_current_user} = sub { my( $repo ) = @_; ... }
# Called by EPrints::Repository::current_user before EPrints' own cookie and basic auth.
# A Gatehouse bearer token or session cookie on the request -> GET /api/me -> the local
# user. Nothing usable: undef, and EPrints goes on to its own log in ticket.
sub get_current_user {
    my ($repo) = @_;
    conf($repo) or return undef;
    my %cred = _request_credential($repo) or return undef;
    my $me = eval { _user_client( $repo, %cred )->me };
    if ( !$me ) {
        _log( $repo, 'token or session refused: ' . _describe($@) );
        return undef;
    }
    return sync_local_user( $repo, $me->{user} );
}

# --- privileges ---------------------------------------------------------------------------------

# The user's effective set, once per request: memoised on the repository object under a key
# that EPrints::Repository::cleanup deletes at the end of every request. Across requests the
# client revalidates with If-None-Match, so an unchanged user costs a 304.
sub effective_for {
    my ( $repo, $user ) = @_;
    my $email = $user->get_value('email');
    return undef unless defined $email && length $email;
    my $memo = $repo->{gatehouse_effective} //= {};
    return $memo->{$email} if exists $memo->{$email};
    my $client = client($repo);
    my $eff = eval { $client->effective($email) };
    if ( !$eff ) {
        _log( $repo, "no privileges for `$email`: " . _describe($@) );
        $eff = undef;
    }
    return $memo->{$email} = $eff;
}

sub _privs_hash {
    my ($eff) = @_;
    my $key = "$eff->{id}:$eff->{generation}";
    return $PRIVS{$key} if $PRIVS{$key};
    %PRIVS = () if keys %PRIVS >= $PRIVS_MAX;
    my %hash;
    tie %hash, 'Gatehouse::EPrints::Privs',
        held      => { map { $_ => 1 } @{ $eff->{privileges} } },
        denied    => { map { $_ => 1 } @{ $eff->{denied} } },
        superuser => ( $eff->{superuser} && $eff->{active} ) ? 1 : 0;
    return $PRIVS{$key} = \%hash;
}

# Replaces EPrints::DataObj::User::get_privs( $self ): the hash has_privilege reads.
sub get_privs {
    my ($self) = @_;
    my $repo = $self->{session};
    return $ORIGINAL{'EPrints::DataObj::User::get_privs'}->(@_) unless conf($repo);
    my $eff = effective_for( $repo, $self );
    return _privs_hash($eff) if $eff;
    return conf($repo)->{local_fallback}
        ? $ORIGINAL{'EPrints::DataObj::User::get_privs'}->(@_)
        : {};
}

# Replaces EPrints::DataObj::User::get_roles( $self ): EPrints' own rule (the type's entries
# then the user's, without +/- entries), read from Gatehouse's type and user entries.
sub get_roles {
    my ($self) = @_;
    my $repo = $self->{session};
    return $ORIGINAL{'EPrints::DataObj::User::get_roles'}->(@_) unless conf($repo);
    my $eff = effective_for( $repo, $self );
    if ( !$eff ) {
        return conf($repo)->{local_fallback}
            ? $ORIGINAL{'EPrints::DataObj::User::get_roles'}->(@_)
            : ();
    }
    return grep { !/\A[+-]/ } @{ $eff->{type_entries} }, @{ $eff->{entries} };
}

# The values an eprint has for a scope field. Subject fields (subjects, divisions) also
# carry every ancestor, as EPrints' InSubject condition matches descendants.
sub item_values {
    my ( $repo, $eprint, $field ) = @_;
    if ( my $hook = ( conf($repo) || {} )->{item_values} ) {
        return $hook->( $repo, $eprint, $field );
    }
    my $v = eval { $eprint->get_value($field) };
    my @values = grep { defined && length } ref $v eq 'ARRAY' ? @$v : ($v);
    my $is_subject = eval {
        my $f = $eprint->get_dataset->field($field);
        $f && $f->isa('EPrints::MetaField::Subject');
    };
    if ($is_subject) {
        my %all = map { $_ => 1 } @values;
        for my $id (@values) {
            my $subject = eval { $repo->dataset('subject')->dataobj($id) } or next;
            $all{$_} = 1 for @{ $subject->get_value('ancestors') || [] };
        }
        @values = sort keys %all;
    }
    return @values;
}

# Does one Gatehouse scope filter (`field=v,v;field=v`) admit the eprint? Every field must
# share a value with the item.
sub scope_matches {
    my ( $repo, $eprint, $filter ) = @_;
    for my $part ( split /;/, $filter ) {
        my ( $field, $list ) = split /=/, $part, 2;
        next unless defined $field && length $field;
        my %want = map { $_ => 1 } split /,/, $list // '';
        return 0 unless grep { $want{$_} } item_values( $repo, $eprint, $field );
    }
    return 1;
}

# Replaces EPrints::DataObj::EPrint::in_editorial_scope_of( $self, $possible_editor ): the
# scope is the user's Gatehouse editorial scope, not the local `editperms` field.
sub in_editorial_scope_of {
    my ( $self, $possible_editor ) = @_;
    my $repo = $self->{session};
    my $orig = $ORIGINAL{'EPrints::DataObj::EPrint::in_editorial_scope_of'};
    return $orig->(@_) unless conf($repo);
    my $eff = effective_for( $repo, $possible_editor );
    if ( !$eff ) {
        return conf($repo)->{local_fallback} ? $orig->(@_) : 0;
    }
    my @filters = @{ $eff->{editorial_scope} || [] };
    if ( !@filters ) {
        return $possible_editor->has_role('editperms_none_by_default') ? 0 : 1;
    }
    for my $filter (@filters) {
        return 1 if scope_matches( $repo, $self, $filter );
    }
    return 0;
}

# Replaces EPrints::DataObj::User::editable_eprints_list( $self, %opts ) (the review buffer
# list, editor alerts): the eprints of $opts{dataset} in the user's Gatehouse editorial
# scope, so that the list shows exactly what in_editorial_scope_of admits. One search per
# scope filter (the fields of a filter AND-ed, each field matching any of its values, as
# EPrints' editperms searches do), their results OR-ed.
sub editable_eprints_list {
    my ( $self, %opts ) = @_;
    my $repo = $self->{session};
    my $orig = $ORIGINAL{'EPrints::DataObj::User::editable_eprints_list'};
    return $orig->( $self, %opts ) unless conf($repo);
    $opts{dataset} = $repo->dataset('eprint') if !defined $opts{dataset};
    my $eff = effective_for( $repo, $self );
    my @filters;
    if ( !$eff ) {
        return $orig->( $self, %opts ) if conf($repo)->{local_fallback};
    }
    else {
        @filters = @{ $eff->{editorial_scope} || [] };
        if ( !@filters && !$self->has_role('editperms_none_by_default') ) {
            return $opts{dataset}->search( custom_order => '-datestamp', %opts );
        }
    }
    my ( %seen, @ids );
    for my $filter (@filters) {
        my @conditions;
        for my $part ( split /;/, $filter ) {
            my ( $field, $list ) = split /=/, $part, 2;
            next unless defined $field && length $field;
            push @conditions, { meta_fields => [$field], value => join( ' ', split /,/, $list // '' ),
                match => 'EQ', merge => 'ANY' };
        }
        my $found = $opts{dataset}->search( custom_order => '-datestamp', %opts,
            filters => [ @{ $opts{filters} || [] }, @conditions ] );
        $found->map( sub {
            my ( undef, undef, $item ) = @_;
            my $id = $item->get_id;
            push @ids, $id unless $seen{$id}++;
        } );
    }
    return EPrints::List->new( session => $repo, dataset => $opts{dataset}, ids => \@ids,
        order => '-datestamp' );
}

# Wraps the EPrints subs once per process. A repository without $c->{gatehouse}{url} keeps
# EPrints' own behaviour (several archives may share one Apache).
sub install {
    my ($class) = @_;
    require EPrints::DataObj::User;
    require EPrints::DataObj::EPrint;
    require EPrints::List;
    my %replace = (
        'EPrints::DataObj::User::get_privs'              => \&get_privs,
        'EPrints::DataObj::User::get_roles'              => \&get_roles,
        'EPrints::DataObj::User::editable_eprints_list'  => \&editable_eprints_list,
        'EPrints::DataObj::EPrint::in_editorial_scope_of' => \&in_editorial_scope_of,
    );
    for my $name ( sort keys %replace ) {
        no strict 'refs';
        no warnings 'redefine';
        my $current = \&{$name};
        next if $current == $replace{$name};    # already installed
        die "Gatehouse::EPrints: EPrints has no $name to replace\n" unless defined &{$name};
        $ORIGINAL{$name} = $current;
        *{$name} = $replace{$name};
    }
    return 1;
}

# Ends the per-request memo by hand (EPrints::Repository::cleanup does it for real requests).
sub forget_request {
    my ($repo) = @_;
    delete $repo->{gatehouse_effective};
    return;
}

package Gatehouse::EPrints::Privs;

# The privilege hash of one effective answer. A superuser (`superuser-access`) holds every
# plain string that is not denied, which a plain hash cannot list: FETCH answers for any
# key, keys lists the held strings. As in Gatehouse's check, superuser-access gives bit 2
# only: a `...:owner` or `...:editor` string is held by a superuser only if the effective
# set lists it.

sub TIEHASH {
    my ( $class, %args ) = @_;
    return bless {%args}, $class;
}

sub FETCH {
    my ( $self, $key ) = @_;
    return undef if $self->{denied}{$key};
    return 1 if $self->{held}{$key};
    return ( $self->{superuser} && $key !~ /:(?:owner|editor)\z/ ) ? 1 : undef;
}

sub EXISTS   { defined $_[0]->FETCH( $_[1] ) }
sub STORE    { $_[0]{held}{ $_[1] } = $_[2] }
sub DELETE   { delete $_[0]{held}{ $_[1] } }
sub CLEAR    { %{ $_[0]{held} } = () }
sub FIRSTKEY { my @k = sort keys %{ $_[0]{held} }; $_[0]{iter} = \@k; shift @k }
sub NEXTKEY  { shift @{ $_[0]{iter} } }
sub SCALAR   { scalar %{ $_[0]{held} } }

1;

__END__

=head1 NAME

Gatehouse::EPrints - EPrints log in, current user and privileges from Gatehouse

=head1 SYNOPSIS

In C<archives/ID/cfg/cfg.d/zz_gatehouse.pl> (shipped in C<clients/perl/eprints/>):

    use Gatehouse::EPrints;
    $c->{gatehouse}->{url}           //= 'https://gatehouse.example.org';
    $c->{gatehouse}->{service_token} //= 'the token from `gatehouse tokens create eprints --privilege check/any`';
    $c->{check_user_password} = sub { my( $repo, $username, $password ) = @_;
        return Gatehouse::EPrints::check_user_password( $repo, $username, $password ) };
    $c->{get_current_user} = sub { my( $repo ) = @_;
        return Gatehouse::EPrints::get_current_user( $repo ) };
    Gatehouse::EPrints->install;

=head1 DESCRIPTION

=over 4

=item check_user_password($repo, $username, $password)

Logs in through Gatehouse (C<POST /api/login>, email or username), ends that Gatehouse
session again (EPrints issues its own ticket), creates or updates the local EPrints user
(username, email, name, usertype) and returns its username; 0 when Gatehouse refuses
(wrong password, unknown user, unconfirmed or disabled account, throttled, unreachable).

=item get_current_user($repo)

C<Authorization: Bearer TOKEN> or the C<gatehouse_session> cookie on the request ->
C<GET /api/me> -> the local user (created or updated). undef otherwise, so EPrints goes on
to its own cookie and basic authentication.

=item install

Replaces C<EPrints::DataObj::User::get_privs> (the hash C<has_privilege> reads) and
C<get_roles> (C<has_role>, C<is_staff>) with the user's effective set from Gatehouse
(C<GET /api/users/EMAIL/effective>, one call per request and user, revalidated with its ETag
across requests), and C<EPrints::DataObj::EPrint::in_editorial_scope_of> with the user's
Gatehouse editorial scope. C<EPrints::DataObj::User::editable_eprints_list> (the review list) with the eprints in that
scope. C<allow>, C<has_privilege>, C<permit> and C<has_owner> stay
EPrints' own. Repositories without C<< $c->{gatehouse}->{url} >> keep EPrints' behaviour.

=back

See C<docs/integrations/eprints.md>.

=cut
