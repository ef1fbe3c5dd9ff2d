use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;

use IO::Socket::INET;
use POSIX qw(_exit);

use Gatehouse::Client;

# A stand-in server answering a script of statuses, one connection per request, so that the
# client's 503 retries can be counted. (The real server's 503 is /readyz without a database,
# which a test cannot provoke on demand.)
sub fake_server {
    my (@script) = @_;
    my $listen = IO::Socket::INET->new( Listen => 5, LocalAddr => '127.0.0.1', LocalPort => 0, ReuseAddr => 1 ) or die $!;
    pipe my $rd, my $wr or die $!;
    my $pid = fork // die;
    if ( !$pid ) {
        close $rd;
        my $n = 0;
        for my $status (@script) {
            my $c = $listen->accept or last;
            my $req = '';
            while ( my $line = <$c> ) { $req .= $line; last if $line eq "\r\n" }
            my ($len) = $req =~ /content-length:\s*(\d+)/i;
            read $c, my $body, $len if $len;
            $n++;
            my $content = $status == 200 ? '{"ok":true}'
                : qq({"error":{"code":"unavailable","message":"try later"}});
            my $reason = $status == 200 ? 'OK' : 'Service Unavailable';
            print $c "HTTP/1.1 $status $reason\r\nContent-Type: application/json\r\nContent-Length: "
                . length($content) . "\r\nConnection: close\r\nRetry-After: 0\r\n\r\n$content";
            close $c;
        }
        print $wr "$n\n";
        close $wr;
        _exit(0);
    }
    close $wr;
    return ( "http://127.0.0.1:" . $listen->sockport, $pid, $rd );
}

# How many requests the stand-in served: it reports once its script is used up. A script
# the client did not use up (too few requests) leaves it waiting: undef after 10 s.
sub served {
    my ( $pid, $rd ) = @_;
    my $n = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm 10;
        my $line = <$rd>;
        alarm 0;
        $line;
    };
    kill 'TERM', $pid unless defined $n;
    waitpid $pid, 0;
    return defined $n ? 0 + $n : undef;
}

{
    my ( $url, $pid, $rd ) = fake_server( 503, 503, 200 );
    my $gh  = Gatehouse::Client->new( base_url => $url, retries => 2, retry_delay => 0.01 );
    my $out = $gh->request( 'POST', '/api/check', json => { privilege => 'status' } );
    ok $out->{ok}, 'two 503s then 200: the answer';
    is $gh->last_status, 200, 'last status 200';
    # The child counts requests until its script ends; a script of 3 served all 3.
    is served( $pid, $rd ), 3, 'three requests in all';
}

{
    my ( $url, $pid, $rd ) = fake_server( 503, 503, 503, 200 );
    my $gh = Gatehouse::Client->new( base_url => $url, retries => 2, retry_delay => 0.01 );
    my $e  = eval { $gh->get_user('a@b.org'); undef } // $@;
    isa_ok $e, 'Gatehouse::Client::Error', 'three 503s with retries => 2';
    is $e->status, 503, 'status 503';
    is $e->code, 'unavailable', 'the code from the body';
    is $e->retry_after, 0, 'Retry-After kept';
    # Let the last scripted answer go, so the child can report its count.
    Gatehouse::Client->new( base_url => $url, retries => 0 )->request( 'GET', '/' );
    is served( $pid, $rd ), 4, 'exactly 1 + 2 tries before giving up (the 4th was ours)';
}

{
    my ( $url, $pid, $rd ) = fake_server( 503, 200 );
    my $gh = Gatehouse::Client->new( base_url => $url, retries => 0 );
    my $e  = eval { $gh->get_user('a@b.org'); undef } // $@;
    is $e->status, 503, 'retries => 0: the first 503 dies';
    Gatehouse::Client->new( base_url => $url, retries => 0 )->request( 'GET', '/' );
    is served( $pid, $rd ), 2, 'one try, then ours';
}

{
    # A POST that changes something is not repeated: the server may have acted.
    my ( $url, $pid, $rd ) = fake_server( 503, 200 );
    my $gh = Gatehouse::Client->new( base_url => $url, retries => 3, retry_delay => 0.01 );
    my $e  = eval { $gh->create_user( email => 'a@b.org', password => 'password-123' ); undef } // $@;
    is $e->status, 503, 'POST /api/users: a 503 is not retried';
    Gatehouse::Client->new( base_url => $url, retries => 0 )->request( 'GET', '/' );
    is served( $pid, $rd ), 2, 'one try, then ours';
}

{
    # ... unless the caller says it is safe.
    my ( $url, $pid, $rd ) = fake_server( 503, 200 );
    my $gh = Gatehouse::Client->new( base_url => $url, retries => 3, retry_delay => 0.01 );
    ok $gh->request( 'POST', '/api/roles', json => { name => 'x' }, retry => 1 )->{ok}, 'retry => 1: retried';
    is served( $pid, $rd ), 2, 'two tries';
}

done_testing;
