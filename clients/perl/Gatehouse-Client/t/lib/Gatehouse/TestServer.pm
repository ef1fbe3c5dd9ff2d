package Gatehouse::TestServer;

# Starts a real `gatehouse serve` for the tests: a fresh temporary directory holding a copy
# of the repository's app_data/ (users.yaml, user_roles.yaml), `gatehouse fixtures load`,
# then `gatehouse serve --listen 127.0.0.1:0` with a clean environment (as the Rust e2e
# tests in crates/cli/tests/common/ do), waiting for "gatehouse listening on http://ADDR".
# The binary is $ENV{GATEHOUSE_BIN}, default <repo root>/target/debug/gatehouse. A missing
# binary is an error, never a skip.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Copy qw(copy);
use File::Spec;
use File::Temp qw(tempdir);
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);

use Gatehouse::Client;

sub repo_root {
    return abs_path( $ENV{GATEHOUSE_REPO_ROOT} ) if $ENV{GATEHOUSE_REPO_ROOT};
    # this file: <root>/clients/perl/Gatehouse-Client/t/lib/Gatehouse/TestServer.pm
    my $dir = dirname( abs_path(__FILE__) );
    return abs_path( File::Spec->catdir( $dir, (File::Spec->updir) x 6 ) );
}

sub binary {
    my $bin = $ENV{GATEHOUSE_BIN} // File::Spec->catfile( repo_root(), qw(target debug gatehouse) );
    die "the gatehouse binary `$bin` is missing or not executable (set GATEHOUSE_BIN)\n"
        unless -x $bin;
    return abs_path($bin);
}

sub _env {
    my (%extra) = @_;
    return (
        PATH                              => $ENV{PATH} // '/usr/bin:/bin',
        GATEHOUSE_LOG                     => 'warn',
        # Tests log in many times, some with wrong passwords, from one address.
        GATEHOUSE_THROTTLE__ACCOUNT_BURST => 1000,
        GATEHOUSE_THROTTLE__ADDRESS_BURST => 1000,
        %extra,
    );
}

sub _run {
    my ( $self, @args ) = @_;
    my $pid = fork // die "fork: $!";
    if ( !$pid ) {
        chdir $self->{dir} or die "chdir: $!";
        %ENV = _env();
        open STDOUT, '>>', "$self->{dir}/commands.log" or die;
        open STDERR, '>&', \*STDOUT or die;
        { no warnings q(exec); exec { $self->{bin} } $self->{bin}, @args; }
        POSIX::_exit(127);
    }
    waitpid $pid, 0;
    return $? >> 8;
}

sub start {
    my ( $class, %opt ) = @_;
    my $self = bless {
        bin => binary(),
        dir => tempdir( 'gatehouse-perl-XXXXXX', TMPDIR => 1, CLEANUP => 1 ),
    }, $class;
    my $app = File::Spec->catdir( repo_root(), 'app_data' );
    mkdir "$self->{dir}/app_data" or die "mkdir: $!";
    for my $f (qw(users.yaml user_roles.yaml)) {
        copy( "$app/$f", "$self->{dir}/app_data/$f" ) or die "copy $app/$f: $!";
    }
    my $rc = $self->_run(qw(fixtures load));
    die "gatehouse fixtures load failed (exit $rc):\n" . $self->_slurp('commands.log') if $rc;

    my $log = "$self->{dir}/serve.log";
    my $pid = fork // die "fork: $!";
    if ( !$pid ) {
        chdir $self->{dir} or die "chdir: $!";
        %ENV = _env( %{ $opt{env} || {} } );
        open STDOUT, '>', '/dev/null' or die;
        open STDERR, '>', $log or die;
        { no warnings q(exec); exec { $self->{bin} } $self->{bin}, qw(serve --listen 127.0.0.1:0); }
        POSIX::_exit(127);
    }
    $self->{pid} = $pid;
    my $deadline = time + 60;
    while ( time < $deadline ) {
        if ( waitpid( $pid, WNOHANG ) == $pid ) {
            delete $self->{pid};
            die "gatehouse serve exited before listening:\n" . $self->_slurp('serve.log');
        }
        if ( $self->_slurp('serve.log') =~ m{gatehouse listening on (http://\S+)} ) {
            $self->{url} = $1;
            return $self;
        }
        sleep 0.05;
    }
    $self->stop;
    die "gatehouse serve did not listen within 60 s\n";
}

sub _slurp {
    my ( $self, $name ) = @_;
    open my $fh, '<', "$self->{dir}/$name" or return '';
    local $/;
    return scalar <$fh>;
}

sub url { $_[0]{url} }
sub dir { $_[0]{dir} }
sub log { $_[0]->_slurp('serve.log') }

sub client {
    my ( $self, %args ) = @_;
    return Gatehouse::Client->new( base_url => $self->{url}, %args );
}

# A client logged in as the sample admin (admin@example.org, a superuser).
sub admin {
    my ($self) = @_;
    my $c = $self->client;
    $c->login( login => 'admin@example.org', password => 'change-me-admin-1' );
    return $c;
}

# A fresh service token holding the given privileges (default `check/any`).
sub service_token {
    my ( $self, @privileges ) = @_;
    @privileges = ('check/any') unless @privileges;
    my $name = 'perl-test-' . ++$self->{tokens};
    return $self->admin->create_token( name => $name, privileges => \@privileges )->{token};
}

sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    kill 'TERM', $pid;
    my $deadline = time + 10;
    while ( time < $deadline ) {
        return if waitpid( $pid, WNOHANG ) == $pid;
        sleep 0.05;
    }
    kill 'KILL', $pid;
    waitpid $pid, 0;
}

sub DESTROY { $_[0]->stop }

1;
