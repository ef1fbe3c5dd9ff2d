package EPrints::List;

# Stand-in for EPrints::List: new( session|repository => ..., dataset => ..., ids => [...] ),
# ids, count, item, slice and map( sub { my( $session, $dataset, $item, $info ) = @_ } ), as
# in eprints3.4 perl_lib/EPrints/List.pm.

use strict;
use warnings;

sub new {
    my ( $class, %self ) = @_;
    $self{session} = $self{repository} if !defined $self{session};
    die "cache_id or ids must be defined in a EPrints::List->new()" unless $self{ids};
    return bless \%self, $class;
}

sub ids   { [ @{ $_[0]{ids} } ] }
sub count { scalar @{ $_[0]{ids} } }

sub item {
    my ( $self, $n ) = @_;
    my $id = $self->{ids}[$n];
    return defined $id ? $self->{dataset}->dataobj($id) : undef;
}

sub slice {
    my ( $self, $offset, $count ) = @_;
    my @ids = @{ $self->{ids} };
    my $end = $offset + $count - 1;
    $end = $#ids if $end > $#ids;
    return map { $self->{dataset}->dataobj($_) } @ids[ $offset .. $end ];
}

sub map {
    my ( $self, $function, $info ) = @_;
    for my $item ( $self->slice( 0, $self->count ) ) {
        $function->( $self->{session}, $self->{dataset}, $item, $info );
    }
    return;
}

1;
