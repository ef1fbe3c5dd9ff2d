package Gatehouse::Client::Error;

use strict;
use warnings;

our $VERSION = '0.01';

use overload
    '""'     => sub { $_[0]->as_string },
    'bool'   => sub { 1 },
    fallback => 1;

# Fields: status (HTTP status, 599 for a transport failure), code (Gatehouse's stable error
# code, or `transport` / `http_<status>` when the answer carried none), message, method,
# path, retry_after (seconds, from Retry-After), body (the decoded error body, if any).
sub new {
    my ( $class, %args ) = @_;
    my $self = bless {%args}, $class;
    $self->{code}    //= 'http_' . ( $self->{status} // 0 );
    $self->{message} //= '';
    return $self;
}

sub throw {
    my $class = shift;
    die $class->new(@_);
}

sub status      { $_[0]{status} }
sub code        { $_[0]{code} }
sub message     { $_[0]{message} }
sub method      { $_[0]{method} }
sub path        { $_[0]{path} }
sub retry_after { $_[0]{retry_after} }
sub body        { $_[0]{body} }

sub as_string {
    my ($self) = @_;
    my $where = defined $self->{method} ? " ($self->{method} $self->{path})" : '';
    return sprintf "Gatehouse error %s %s: %s%s\n", $self->{status} // '-', $self->{code},
        $self->{message}, $where;
}

1;

__END__

=head1 NAME

Gatehouse::Client::Error - the exception Gatehouse::Client dies with

=head1 SYNOPSIS

    use Scalar::Util qw(blessed);
    my $ok = eval { $gh->check(user => 'ann@example.org', privilege => 'eprint/edit'); 1 };
    if ( !$ok ) {
        my $e = $@;
        die $e unless blessed $e && $e->isa('Gatehouse::Client::Error');
        warn $e->status, ' ', $e->code, ': ', $e->message;
    }

=head1 METHODS

=over 4

=item status

The HTTP status (C<599> when no answer arrived: connection refused, timeout).

=item code

Gatehouse's stable error code (C<invalid_credentials>, C<forbidden>, C<not_found>,
C<invalid>, ...; see C<docs/api.md>), C<transport> for a failure without an answer, or
C<http_STATUS> for an answer without Gatehouse's error body.

=item message

The server's message, for people.

=item method, path

The request that failed.

=item retry_after

Seconds from C<Retry-After> (C<429>, C<503>), if sent.

=item body

The decoded error body, if any.

=back

The object stringifies to a one-line description, so an uncaught one reads well.

=cut
