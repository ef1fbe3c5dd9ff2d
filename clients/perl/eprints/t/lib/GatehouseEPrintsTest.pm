package GatehouseEPrintsTest;

# Shared set-up of the EPrints hook tests: a real Gatehouse server (Gatehouse::TestServer),
# a service token, and stand-in EPrints repositories whose configuration has been through
# zz_gatehouse.pl the way EPrints loads a cfg.d file. `request` gives a fresh repository
# object per simulated web request, all sharing one configuration and one "database".

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);

use Gatehouse::TestServer;
use EPrints::Repository;
use EPrints::Test::Config;
use EPrints::Test::Request;

sub cfg_file {
    # <root>/clients/perl/eprints/t/lib/GatehouseEPrintsTest.pm -> <root>/clients/perl/eprints/zz_gatehouse.pl
    return abs_path( dirname( abs_path(__FILE__) ) . '/../../zz_gatehouse.pl' );
}

sub new {
    my ( $class, %opt ) = @_;
    my $server = Gatehouse::TestServer->start;
    my $token  = $server->service_token('check/any');
    my $config = {
        gatehouse => { url => $server->url, service_token => $token, %{ $opt{gatehouse} || {} } },
        %{ $opt{config} || {} },
    };
    EPrints::Test::Config->load( cfg_file(), $config );
    return bless { server => $server, token => $token, config => $config, db => {}, log => [] }, $class;
}

sub server { $_[0]{server} }
sub config { $_[0]{config} }
sub db     { $_[0]{db} }
sub log    { $_[0]{log} }

# A repository object for one request, with the given request headers (a mod_perl request
# stand-in) or none.
sub request {
    my ( $self, %headers ) = @_;
    return EPrints::Repository->new(
        config    => $self->{config},
        db        => $self->{db},
        log_lines => $self->{log},
        request   => EPrints::Test::Request->new(%headers),
    );
}

sub local_users { values %{ $_[0]{db}{user} || {} } }

sub local_by_email {
    my ( $self, $email ) = @_;
    my @u = grep { lc( $_->{email} // '' ) eq lc $email } $self->local_users;
    return @u;
}

1;
