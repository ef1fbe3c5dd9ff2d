package Gatehouse::Client;

use strict;
use warnings;

our $VERSION = '0.01';

use Carp qw(croak);
use HTTP::Tiny;
use JSON::PP ();
use Time::HiRes ();
use Gatehouse::Client::Error;

our $SESSION_COOKIE = 'gatehouse_session';

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;

sub new {
    my ( $class, %args ) = @_;
    my $base = $args{base_url} // croak 'Gatehouse::Client->new: base_url is required';
    $base =~ s{/+\z}{};
    my $self = bless {
        base_url     => $base,
        token        => $args{token},
        cookie       => $args{session_cookie},
        retries      => $args{retries} // 2,
        retry_delay  => $args{retry_delay} // 0.25,
        max_delay    => $args{max_retry_delay} // 5,
        cache_size   => $args{cache_size} // 10_000,
        etag_cache   => {},
        last_status  => undef,
        http         => $args{http} // Gatehouse::Client::HTTP->new(
            agent      => "Gatehouse-Client-Perl/$VERSION ",
            timeout    => $args{timeout} // 10,
            keep_alive => 1,
            verify_SSL => $args{verify_SSL} // 1,
        ),
    }, $class;
    return $self;
}

# --- accessors ------------------------------------------------------------------------------

sub base_url       { $_[0]{base_url} }
sub last_status    { $_[0]{last_status} }
sub session_cookie { $_[0]{cookie} }

sub token {
    my $self = shift;
    $self->{token} = shift if @_;
    return $self->{token};
}

# --- transport ------------------------------------------------------------------------------

sub _escape {
    my ($s) = @_;
    $s = "$s";
    utf8::encode($s) if utf8::is_utf8($s);
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf '%%%02X', ord $1/ge;
    return $s;
}

sub _query {
    my (%q) = @_;
    my @pairs;
    for my $k ( sort keys %q ) {
        next unless defined $q{$k};
        my $v = $q{$k};
        $v = $v ? 'true' : 'false' if ref $v && JSON::PP::is_bool($v);
        push @pairs, _escape($k) . '=' . _escape($v);
    }
    return @pairs ? '?' . join( '&', @pairs ) : '';
}

# POSTs that only ask (no change on the server): safe to send again.
my %QUERY_POST = map { $_ => 1 }
    qw(/api/check /api/check/batch /api/who-can /api/filter /access/v1/evaluation /access/v1/evaluations);

sub _repeatable {
    my ( $method, $path ) = @_;
    return 1 if $method eq 'GET' || $method eq 'HEAD' || $method eq 'PUT' || $method eq 'DELETE';
    ( my $bare = $path ) =~ s/\?.*//s;
    return $method eq 'POST' && $QUERY_POST{$bare};
}

# One request: JSON in, JSON out. A 503 is retried at most `retries` times when the request
# is safe to repeat (GET, PUT, DELETE, and the POSTs that only ask: check, batch, who-can,
# filter, AuthZEN; `retry => 1` or `retry => 0` decides otherwise), waiting Retry-After or a
# doubling delay; so is a GET that got no answer. Dies with a Gatehouse::Client::Error on
# any status other than 2xx and those in `ok`.
sub request {
    my ( $self, $method, $path, %opt ) = @_;
    my %headers = ( Accept => 'application/json', %{ $opt{headers} || {} } );
    my $token = exists $opt{token} ? $opt{token} : $self->{token};
    my $cookie = exists $opt{session_cookie} ? $opt{session_cookie} : $self->{cookie};
    if ( defined $token && length $token ) {
        $headers{Authorization} = "Bearer $token";
    }
    elsif ( defined $cookie && length $cookie ) {
        $headers{Cookie} = "$SESSION_COOKIE=$cookie";
    }
    my %req = ( headers => \%headers );
    if ( exists $opt{json} ) {
        $headers{'Content-Type'} = 'application/json';
        $req{content} = $JSON->encode( $opt{json} );
    }
    my %ok = map { $_ => 1 } @{ $opt{ok} || [] };
    my $url = $self->{base_url} . $path;

    my $attempt = 0;
    my $delay   = $self->{retry_delay};
    my $repeat  = $opt{retry} // _repeatable( $method, $path );
    while (1) {
        my $res = $self->{http}->request( $method, $url, \%req );
        $self->{last_status} = $res->{status};
        my $retryable = ( $res->{status} == 503 && $repeat )
            || ( $res->{status} == 599 && ( $method eq 'GET' || $method eq 'HEAD' ) );
        if ( $retryable && $attempt < $self->{retries} ) {
            $attempt++;
            my $wait = $delay;
            my $ra   = $res->{headers}{'retry-after'};
            $wait = $ra if defined $ra && $ra =~ /\A\d+(?:\.\d+)?\z/;
            $wait = $self->{max_delay} if $wait > $self->{max_delay};
            Time::HiRes::sleep($wait) if $wait > 0;
            $delay *= 2;
            next;
        }
        if ( $res->{success} || $ok{ $res->{status} } ) {
            return $res if $opt{raw};
            return undef if !defined $res->{content} || $res->{content} eq '';
            my $body = eval { $JSON->decode( $res->{content} ) };
            Gatehouse::Client::Error->throw(
                status  => $res->{status},
                code    => 'bad_response',
                message => "the answer is not JSON: $@",
                method  => $method,
                path    => $path,
            ) if !defined $body && $@;
            return wantarray ? ( $body, $res ) : $body;
        }
        $self->_throw( $method, $path, $res );
    }
}

sub _throw {
    my ( $self, $method, $path, $res ) = @_;
    if ( $res->{status} == 599 ) {
        my $msg = $res->{content} // 'no answer';
        $msg =~ s/\s+\z//;
        Gatehouse::Client::Error->throw(
            status  => 599,
            code    => 'transport',
            message => $msg,
            method  => $method,
            path    => $path,
        );
    }
    my $body = eval { $JSON->decode( $res->{content} // '' ) };
    my $err  = ref $body eq 'HASH' && ref $body->{error} eq 'HASH' ? $body->{error} : undef;
    Gatehouse::Client::Error->throw(
        status      => $res->{status},
        code        => $err ? $err->{code} : undef,
        message     => $err ? $err->{message} : ( $res->{reason} // '' ),
        method      => $method,
        path        => $path,
        retry_after => $res->{headers}{'retry-after'},
        body        => $body,
    );
}

sub _user_path {
    my ( $user, $tail ) = @_;
    croak 'a user (id or email) is required' unless defined $user && length $user;
    return '/api/users/' . _escape($user) . ( $tail // '' );
}

# --- session --------------------------------------------------------------------------------

sub login {
    my ( $self, %args ) = @_;
    my $login = $args{login};
    my %body  = ( password => $args{password} // croak 'login: password is required' );
    if ( defined $args{email} ) { $body{email} = $args{email} }
    elsif ( defined $args{username} ) { $body{username} = $args{username} }
    elsif ( defined $login ) {
        $body{ $login =~ /\@/ ? 'email' : 'username' } = $login;
    }
    else { croak 'login: give email, username or login' }
    my ( $out, $res ) = $self->request( 'POST', '/api/login', json => \%body, token => undef,
        session_cookie => undef, headers => $args{headers} || {} );
    my $cookies = $res->{headers}{'set-cookie'} // [];
    for my $c ( ref $cookies ? @$cookies : ($cookies) ) {
        if ( $c =~ /\A\Q$SESSION_COOKIE\E=([^;]*)/ ) {
            $out->{session_cookie} = $1;
        }
    }
    if ( $args{keep} // 1 ) {
        $self->{token}  = $out->{token};
        $self->{cookie} = $out->{session_cookie};
    }
    return $out;
}

sub logout {
    my ($self) = @_;
    $self->request( 'POST', '/api/logout' );
    $self->{token}  = undef;
    $self->{cookie} = undef;
    return 1;
}

sub me { $_[0]->request( 'GET', '/api/me' ) }

# --- asking the engine ----------------------------------------------------------------------

sub _check_body {
    my (%a) = @_;
    my %body = ( privilege => $a{privilege} // croak 'check: privilege is required' );
    $body{user}      = $a{user} if defined $a{user};
    $body{anonymous} = JSON::PP::true if $a{anonymous};
    $body{item}      = $a{item} if defined $a{item};
    return \%body;
}

sub check {
    my ( $self, %args ) = @_;
    return $self->request( 'POST', '/api/check', json => _check_body(%args) );
}

sub allowed {
    my ( $self, %args ) = @_;
    return $self->check(%args)->{allowed} ? 1 : 0;
}

sub check_batch {
    my ( $self, $checks ) = @_;
    croak 'check_batch: give an array of checks' unless ref $checks eq 'ARRAY';
    my $out = $self->request( 'POST', '/api/check/batch',
        json => { checks => [ map { _check_body(%$_) } @$checks ] } );
    return $out->{results};
}

sub effective {
    my ( $self, $user, %opt ) = @_;
    my $key    = "$user";
    my $cached = ( $opt{cache} // 1 ) ? $self->{etag_cache}{$key} : undef;
    my %headers;
    $headers{'If-None-Match'} = $cached->{etag} if $cached;
    my $res = $self->request( 'GET', _user_path( $user, '/effective' ),
        headers => \%headers, ok => [304], raw => 1 );
    if ( $res->{status} == 304 ) {
        croak 'effective: 304 without a cached copy' unless $cached;
        return $cached->{body};
    }
    my $body = $JSON->decode( $res->{content} );
    if ( $opt{cache} // 1 ) {
        %{ $self->{etag_cache} } = () if keys %{ $self->{etag_cache} } >= $self->{cache_size};
        my $etag = $res->{headers}{etag};
        $self->{etag_cache}{$key} = { etag => $etag, body => $body } if defined $etag;
    }
    return $body;
}

sub forget_effective {
    my ( $self, $user ) = @_;
    if ( defined $user ) { delete $self->{etag_cache}{"$user"} }
    else                 { %{ $self->{etag_cache} } = () }
    return;
}

sub who_can {
    my ( $self, %args ) = @_;
    my %body = ( privilege => $args{privilege} // croak 'who_can: privilege is required' );
    $body{item} = $args{item} if defined $args{item};
    my $q = _query( expand => $args{expand}, after => $args{after}, limit => $args{limit} );
    return $self->request( 'POST', "/api/who-can$q", json => \%body );
}

sub filter {
    my ( $self, %args ) = @_;
    my %body = ( privilege => $args{privilege} // croak 'filter: privilege is required' );
    $body{user}      = $args{user}    if defined $args{user};
    $body{dataset}   = $args{dataset} if defined $args{dataset};
    $body{anonymous} = JSON::PP::true if $args{anonymous};
    return $self->request( 'POST', '/api/filter', json => \%body );
}

sub evaluation {
    my ( $self, $body ) = @_;
    return $self->request( 'POST', '/access/v1/evaluation', json => $body );
}

sub evaluations {
    my ( $self, $body ) = @_;
    return $self->request( 'POST', '/access/v1/evaluations', json => $body );
}

# --- users ----------------------------------------------------------------------------------

sub list_users {
    my ( $self, %q ) = @_;
    for my $b (qw(active confirmed)) {
        $q{$b} = $q{$b} ? 'true' : 'false' if exists $q{$b} && defined $q{$b};
    }
    return $self->request( 'GET', '/api/users' . _query(%q) );
}

sub get_user { $_[0]->request( 'GET', _user_path( $_[1] ) ) }

sub create_user {
    my ( $self, %data ) = @_;
    for my $b (qw(active confirm random_password)) {
        $data{$b} = $data{$b} ? JSON::PP::true : JSON::PP::false if exists $data{$b};
    }
    return $self->request( 'POST', '/api/users', json => \%data );
}

sub update_user {
    my ( $self, $user, %profile ) = @_;
    return $self->request( 'PATCH', _user_path($user), json => \%profile );
}

sub delete_user {
    my ( $self, $user ) = @_;
    $self->request( 'DELETE', _user_path($user) );
    return 1;
}

sub activate_user     { $_[0]->request( 'POST', _user_path( $_[1], '/activate' ) ) }
sub deactivate_user   { $_[0]->request( 'POST', _user_path( $_[1], '/deactivate' ) ) }
sub confirm_user      { $_[0]->request( 'POST', _user_path( $_[1], '/confirm' ) ) }
sub send_confirmation { $_[0]->request( 'POST', _user_path( $_[1], '/send-confirmation' ) ) }
sub user_privileges   { $_[0]->request( 'GET', _user_path( $_[1], '/privileges' ) ) }

sub set_user_type {
    my ( $self, $user, $type ) = @_;
    return $self->request( 'PUT', _user_path( $user, '/type' ), json => { type => $type } );
}

sub set_user_roles {
    my ( $self, $user, $roles ) = @_;
    return $self->request( 'PUT', _user_path( $user, '/roles' ), json => { roles => $roles } );
}

sub add_user_entry {
    my ( $self, $user, $entry ) = @_;
    return $self->request( 'POST', _user_path( $user, '/entries' ), json => { entry => $entry } );
}

sub remove_user_entry {
    my ( $self, $user, $entry ) = @_;
    return $self->request( 'DELETE', _user_path( $user, '/entries' ),
        json => { entry => $entry } );
}

sub set_user_scope {
    my ( $self, $user, $filters ) = @_;
    return $self->request( 'PUT', _user_path( $user, '/scope' ), json => { filters => $filters } );
}

sub set_user_password {
    my ( $self, $user, %args ) = @_;
    my %body;
    $body{password}         = $args{password} if defined $args{password};
    $body{current_password} = $args{current_password} if defined $args{current_password};
    $body{random}           = JSON::PP::true if $args{random};
    return $self->request( 'PUT', _user_path( $user, '/password' ), json => \%body );
}

# --- roles, grants, service tokens ---------------------------------------------------------

sub list_roles { $_[0]->request( 'GET', '/api/roles' ) }
sub get_role   { $_[0]->request( 'GET', '/api/roles/' . _escape( $_[1] ) ) }

sub create_role {
    my ( $self, %args ) = @_;
    return $self->request( 'POST', '/api/roles', json => \%args );
}

sub list_grants {
    my ( $self, %q ) = @_;
    return $self->request( 'GET', '/api/grants' . _query(%q) );
}

sub grant {
    my ( $self, %args ) = @_;
    return $self->request( 'POST', '/api/grants', json => \%args );
}

sub remove_grant {
    my ( $self, %args ) = @_;
    return $self->request( 'DELETE', '/api/grants', json => \%args );
}

sub list_tokens { $_[0]->request( 'GET', '/api/tokens' ) }

sub create_token {
    my ( $self, %args ) = @_;
    return $self->request( 'POST', '/api/tokens',
        json => { name => $args{name}, privileges => $args{privileges} || [] } );
}

sub revoke_token {
    my ( $self, $name ) = @_;
    $self->request( 'DELETE', '/api/tokens/' . _escape($name) );
    return 1;
}

# HTTP::Tiny writes a request's headers and body in two writes; with Nagle's algorithm on,
# the body then waits for the server's delayed ACK (40 ms on Linux) on every POST of a kept-
# alive connection. Turn Nagle off on each connection HTTP::Tiny opens.
package Gatehouse::Client::HTTP;

use parent -norequire, 'HTTP::Tiny';
use Socket qw(IPPROTO_TCP TCP_NODELAY);

sub _open_handle {
    my ( $self, @args ) = @_;
    my $handle = $self->SUPER::_open_handle(@args);
    eval { setsockopt( $handle->{fh}, IPPROTO_TCP, TCP_NODELAY, 1 ) } if ref $handle;
    return $handle;
}

package Gatehouse::Client;

1;

__END__

=head1 NAME

Gatehouse::Client - a small client for Gatehouse's HTTP API (HTTP::Tiny + JSON::PP)

=head1 SYNOPSIS

    use Gatehouse::Client;

    # A repository application, with a service token holding `check/any`:
    my $gh = Gatehouse::Client->new(
        base_url => 'https://gatehouse.example.org',
        token    => $service_token,
        timeout  => 5,
        retries  => 2,          # a 503 is retried at most twice
    );

    my $answer = $gh->check(
        user      => 'ann@example.org',
        privilege => 'eprint/edit',
        item      => { dataset => 'eprint', status => 'buffer', owners => ['ann@example.org'],
                       fields => { divisions => ['law'] } },
    );
    print "allowed, mask $answer->{mask}\n" if $answer->{allowed};

    my $eff = $gh->effective('ann@example.org');   # ETag-cached: a 304 reuses the copy held
    my $who = $gh->who_can(privilege => 'eprint/move_archive',
                           item => { dataset => 'eprint', status => 'buffer' });
    my $f   = $gh->filter(user => 'ann@example.org', privilege => 'eprint/view');

    # A person, logging in:
    my $me = Gatehouse::Client->new(base_url => 'https://gatehouse.example.org');
    my $session = $me->login(login => 'ann@example.org', password => $password);
    $me->logout;

=head1 DESCRIPTION

One object per Gatehouse server and credential. Every call sends and receives JSON and
returns the decoded answer (hash or array references; JSON booleans are L<JSON::PP::Boolean>
objects, true or false in Perl). Only core or Debian-packaged modules are used:
L<HTTP::Tiny> (with L<IO::Socket::SSL> for https) and L<JSON::PP>.

=head2 Errors

Every failure dies with a L<Gatehouse::Client::Error> carrying C<status>, C<code> (the
server's stable code such as C<invalid_credentials> or C<not_found>) and C<message>. A
failure to reach the server has status C<599> and code C<transport>.

=head2 Retries

A C<503> answer (C<unavailable>, or C<timeout> when the server's request time ran out) is
retried at most C<retries> times (default 2), waiting C<Retry-After> if the server sent it,
else C<retry_delay> seconds (default 0.25) doubling each time, never more than
C<max_retry_delay> (default 5). Only requests that are safe to send again are retried:
C<GET>, C<PUT>, C<DELETE> and the C<POST>s that only ask (check, batch, who-can, filter,
AuthZEN). A C<POST> that changes something (log in, create a user, a token, a grant) is not,
since the server may have acted before it timed out; C<< request(..., retry => 1) >>
overrides. A C<GET> that got no answer at all is retried the same way.

=head1 CONSTRUCTOR

=head2 new(%args)

C<base_url> (required), C<token> (a bearer token: a service token or one from C<login>),
C<session_cookie> (the value of the C<gatehouse_session> cookie, used when no token is
given), C<timeout> (seconds, default 10), C<retries>, C<retry_delay>, C<max_retry_delay>,
C<cache_size> (entries of the C<effective> cache, default 10,000; the cache is emptied when
full), C<verify_SSL> (default on), C<http> (an L<HTTP::Tiny> to use instead).

=head1 METHODS

=head2 Session

=over 4

=item login(login => $email_or_username, password => $pw) / login(email => ..., password => ...) / login(username => ...)

C<POST /api/login>. C<< headers => {...} >> adds request headers (an application logging
people in on their behalf may pass C<X-Forwarded-For> with their address, which Gatehouse
believes only from its C<server.trusted_proxies>). Returns C<{token, expires, user,
session_cookie}> and, unless
C<< keep => 0 >>, uses the token for later calls. Refusals die with C<invalid_credentials>
(401), C<email_unconfirmed> or C<account_disabled> (403), C<too_many_requests> (429).

=item logout

C<POST /api/logout>: ends the session or token this client holds.

=item me

C<GET /api/me>: the logged-in user and their privileges.

=back

=head2 Asking the engine

=over 4

=item check(user => $id_or_email, privilege => $p, item => \%item, anonymous => $bool)

C<POST /api/check>. C<item> is C<{dataset, status, owners => [ids or emails], fields =>
{field => [values]}}>. Returns C<{allowed, mask, public, user, owner, editor, reasons}>.

=item allowed(%same)

C<check>'s C<allowed> as 1 or 0.

=item check_batch(\@checks)

C<POST /api/check/batch> with up to 1000 checks given as hashes of C<check>'s arguments.
Returns the results in order; a check the server could not answer is C<{error => {code,
message}}> in its place (it does not die).

=item effective($user)

C<GET /api/users/{user}/effective>: type, roles, entries, privilege strings, denies,
editorial scope, superuser and C<generation>. The answer is kept with its C<ETag>; the next
call sends C<If-None-Match> and a C<304> returns the copy held. C<< effective($user, cache =>
0) >> bypasses the cache; C<last_status> tells whether the server answered 200 or 304.

=item forget_effective([$user])

Drops one user's cached copy, or all.

=item who_can(privilege => $p, item => \%item, expand => 'users', after => $id, limit => $n)

C<POST /api/who-can> (needs C<check/any>).

=item filter(user => $u, privilege => $p, dataset => $d, anonymous => $bool)

C<POST /api/filter>: C<{dataset, privilege, coverage => all|none|some, conditions}>.

=item evaluation(\%authzen_request), evaluations(\%authzen_request)

AuthZEN 1.0 C<POST /access/v1/evaluation> and C<POST /access/v1/evaluations>.

=back

=head2 Users

C<list_users(q =E<gt> ..., type =E<gt> ..., active =E<gt> bool, confirmed =E<gt> bool,
offset =E<gt> n, limit =E<gt> n)>, C<get_user($u)>, C<create_user(email =E<gt> ...,
password =E<gt> ..., username =E<gt> ..., full_name =E<gt> ..., affiliations =E<gt> ...,
active =E<gt> bool, confirm =E<gt> bool, type =E<gt> ..., roles =E<gt> [...])>,
C<update_user($u, full_name =E<gt> ..., affiliations =E<gt> ...)>, C<delete_user($u)>,
C<activate_user($u)>, C<deactivate_user($u)>, C<confirm_user($u)>,
C<send_confirmation($u)>, C<set_user_type($u, $type)>, C<set_user_roles($u, \@entries)>,
C<add_user_entry($u, $entry)>, C<remove_user_entry($u, $entry)>,
C<set_user_scope($u, \@filters)>, C<set_user_password($u, password =E<gt> ...,
current_password =E<gt> ..., random =E<gt> bool)>, C<user_privileges($u)>.

A user is named by id or email, as the API takes them.

=head2 Roles, grants and service tokens

C<list_roles>, C<get_role($name)>, C<create_role(name =E<gt> ..., privileges =E<gt> [...])>,
C<list_grants(%query)>, C<grant(effect =E<gt> 'allow', privilege =E<gt> ..., target =E<gt>
{kind =E<gt> ..., name =E<gt> ...})>, C<remove_grant(...)>, C<list_tokens>,
C<create_token(name =E<gt> ..., privileges =E<gt> [...])>, C<revoke_token($name)>.

=head2 Anything else

C<request($method, $path, json =E<gt> $body, headers =E<gt> {...}, ok =E<gt> [statuses],
retry =E<gt> bool)> sends any request with this client's credential and its error handling.

=head1 SEE ALSO

C<docs/api.md> and C<docs/openapi.json> in the Gatehouse repository;
C<docs/integrations/eprints.md> for L<Gatehouse::EPrints>.

=cut
