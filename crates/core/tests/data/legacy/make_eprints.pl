#!/usr/bin/perl
# make_eprints.pl - known-answer vectors for EPrints 3.4 password hashes.
#
# Usage:  perl make_eprints.pl [--out vectors.json]
#   (rewrites the "eprints" lines of vectors.json, keeps the other platforms' lines)
# Needs Debian's libcrypt-eksblowfish-perl, libdata-entropy-perl and liburi-perl
# (JSON::PP, Digest::SHA and Encode are core Perl).
#
# What this re-states, in my own words and code (nothing is copied):
#   eprints/eprints3.4, perl_lib/EPrints/Utils.pm at commit
#   ca3f79290d66a048cee1a211ad95d1eb592de397 (git describe: v3.4.7-84-gca3f792):
#     crypt, crypt_equals, bcrypt_rehash, _crypt_sha512, _crypt_bcrypt, is_set;
#     the refusal of characters outside \x20-\xff came with commit 4896be8 (issue #457),
#     first released in v3.4.7 (before it, such a password died with "Wide character").
#   perl_lib/EPrints/Const.pm: EP_CRYPT_CRYPT 1, EP_CRYPT_SHA512 2,
#     EP_CRYPT_BCRYPT_REHASH 3, EP_CRYPT_BCRYPT 4.
#   How the password reaches crypt_equals (Database::valid_login):
#     "form"       - Plugin/Screen/Login/Internal.pm reads it with Repository::param, which
#                    runs utf8::decode on the submitted bytes (perl_lib/EPrints/Repository.pm),
#                    so crypt_equals sees CHARACTERS: U+0080..U+00FF are then hashed as ONE
#                    Latin-1 byte each (Digest::SHA, CORE::crypt and Crypt::Eksblowfish all
#                    downgrade), and anything above U+00FF is refused.
#     "basic_auth" - Apache/Auth.pm (and Apache/REST.pm, Apache/Sword.pm) pass the raw bytes of
#                    the Authorization header, so crypt_equals sees the UTF-8 BYTES.
#   How a stored value was made ("stored_from"):
#     "form"  - the password field of a web form (MetaField::form_value_basic uses
#               Repository::param: characters, as above), then crypt_password -> crypt;
#     "bytes" - crypt over UTF-8 bytes, e.g. bin/epadmin create_user at a UTF-8 terminal;
#     "direct"- crypt called directly with no length check (crypt_password's
#               password_maxlength check, default 200, is the only length limit and applies
#               when a password is SET, never in crypt_equals).
#   tools/bcrypt_rehash_user_password: parses the stored ?method=2 value with
#     URI->new(...)->query_form and stores bcrypt_rehash(method, salt, digest).
#
# Every "matches" value below comes from running the re-stated crypt_equals; nothing is typed.
# bcrypt: EPrints uses cost 12 ($2a$12$, key_nul => 1) for both method 3 and method 4, and so
# do these vectors; there are few of them because each check costs a quarter of a second.

use strict;
use warnings;
use sort "stable";
use utf8;

use Digest::SHA ();
use URI ();
use Crypt::Eksblowfish::Bcrypt ();
use Data::Entropy::Algorithms ();
use JSON::PP ();
use Encode ();
use File::Basename qw(dirname);
use File::Spec;
use Getopt::Long;

use constant {
	EP_CRYPT_CRYPT         => 1,
	EP_CRYPT_SHA512        => 2,
	EP_CRYPT_BCRYPT_REHASH => 3,
	EP_CRYPT_BCRYPT        => 4,
};
use constant BCRYPT_COST => 12;    # _crypt_bcrypt's $cost

my $PLATFORM = "eprints";
my @PLATFORM_ORDER = qw(invenio eprints dspace);

# ---------------------------------------------------------------------------------------
# Re-statement of EPrints::Utils (see the header for the file and commit)
# ---------------------------------------------------------------------------------------

# is_set for a plain scalar: defined and not the empty string.
sub ep_is_set { my ($v) = @_; return defined $v && $v ne ""; }

# _crypt_sha512: SHA-512 of salt.value, then 9,999 more SHA-512s of the binary digest
# (a counter of 10000 pre-decremented until it reaches zero), then the HEX of one more
# SHA-512: 10,001 applications in all.
sub ep_crypt_sha512 {
	my ($salt, $value) = @_;
	my $d = Digest::SHA::sha512($salt . $value);
	my $left = 10000;
	while (--$left) {
		$d = Digest::SHA::sha512($d);
	}
	return Digest::SHA::sha512_hex($d);
}

# _crypt_bcrypt: ignores its salt argument, draws 16 random bytes, bcrypt cost 12 with the
# NUL-terminated key ($2a$), and renders "$2a$12$" . bcrypt-base64(salt) . bcrypt-base64(hash).
sub ep_crypt_bcrypt {
	my (undef, $value) = @_;
	my $raw_salt = Data::Entropy::Algorithms::rand_bits(128);
	my $hash = Crypt::Eksblowfish::Bcrypt::bcrypt_hash(
		{ key_nul => 1, cost => BCRYPT_COST, salt => $raw_salt }, $value);
	return sprintf('$2a$%d$', BCRYPT_COST)
		. Crypt::Eksblowfish::Bcrypt::en_base64($raw_salt)
		. Crypt::Eksblowfish::Bcrypt::en_base64($hash);
}

# crypt: refuses unset values and characters outside \x20-\xff; bcrypt (method 4) when
# Crypt::Eksblowfish::Bcrypt and Data::Entropy::Algorithms load (they do here) unless a method
# is given; otherwise a 2-character salt from [a-zA-Z0-9./]. Methods 2 and 4 are written as a
# URI query (URI->query_form over a Perl hash, so the order of the three keys is whatever the
# hash yields); method 1 is CORE::crypt. $forced_salt is NOT in EPrints: it only lets these
# vectors pin a salt containing '.' or '/'.
sub ep_crypt {
	my ($value, $method, $forced_salt) = @_;
	return undef if !ep_is_set($value);
	return undef if $value =~ m/[^\x20-\xff]/;
	$method = EP_CRYPT_BCRYPT if !defined $method;

	my $salt;
	if ($method != EP_CRYPT_BCRYPT) {
		srand;
		my @chars = ('a' .. 'z', 'A' .. 'Z', '0' .. '9', '.', '/');
		$salt = $chars[int(rand(@chars))] . $chars[int(rand(@chars))];
		$salt = $forced_salt if defined $forced_salt;
	}

	if ($method == EP_CRYPT_BCRYPT || $method == EP_CRYPT_SHA512) {
		my %params = $method == EP_CRYPT_BCRYPT
			? (method => $method, digest => ep_crypt_bcrypt($salt, $value))
			: (method => $method, salt => $salt, digest => ep_crypt_sha512($salt, $value));
		my $uri = URI->new;
		$uri->query_form(%params);
		return "$uri";
	}
	if ($method == EP_CRYPT_CRYPT) {
		return CORE::crypt($value, $salt);
	}
	die "Unsupported or unknown crypt method: $method\n";
}

# crypt_equals: undef (refused) for an unset value or one with a character outside
# \x20-\xff; a value not starting with '?' is traditional crypt, salted with its own first two
# characters; otherwise the query is parsed with URI and method 2 / 4 / 3 recomputed; the
# result is a plain string comparison with the stored digest. Dies on an unknown method.
sub ep_crypt_equals {
	my ($crypt, $value) = @_;
	return undef if !ep_is_set($value);
	return undef if $value =~ m/[^\x20-\xff]/;

	if ($crypt !~ /^\?/) {
		my $got = CORE::crypt($value, substr($crypt, 0, 2));
		return (defined $got && $crypt eq $got) ? 1 : "";
	}

	my %q = URI->new($crypt)->query_form;
	my ($method, $salt, $digest) = @q{qw(method salt digest)};
	my $hash;
	if ($method eq EP_CRYPT_SHA512) {
		$hash = ep_crypt_sha512($salt, $value);
	}
	elsif ($method eq EP_CRYPT_BCRYPT) {
		$hash = Crypt::Eksblowfish::Bcrypt::bcrypt($value, $digest);
	}
	elsif ($method eq EP_CRYPT_BCRYPT_REHASH) {
		$hash = Crypt::Eksblowfish::Bcrypt::bcrypt(ep_crypt_sha512($salt, $value), $digest);
	}
	die "Unsupported or unknown crypt method: $method\n" if !defined $hash;
	return $digest eq $hash ? 1 : "";
}

# bcrypt_rehash: only for method 2; bcrypt (as _crypt_bcrypt) over the stored hex digest,
# written as method 3 with the old salt kept.
sub ep_bcrypt_rehash {
	my ($method, $salt, $crypt) = @_;
	die "Crypt method: $method cannot be rehashed using bcrypt.\n" if $method ne EP_CRYPT_SHA512;
	my %params = (method => EP_CRYPT_BCRYPT_REHASH, salt => $salt, digest => ep_crypt_bcrypt($salt, $crypt));
	my $uri = URI->new;
	$uri->query_form(%params);
	return "$uri";
}

# What tools/bcrypt_rehash_user_password does with a stored ?method=2 value.
sub rehash_stored {
	my ($stored) = @_;
	my %q = URI->new($stored)->query_form;
	return ep_bcrypt_rehash(@q{qw(method salt digest)});
}

# ---------------------------------------------------------------------------------------
# How the password reaches EPrints
# ---------------------------------------------------------------------------------------

sub utf8_bytes { return Encode::encode("UTF-8", $_[0]); }

# Repository::param: the submitted bytes, utf8::decode'd when set.
sub as_form_param {
	my ($password) = @_;
	my $value = utf8_bytes($password);
	utf8::decode($value) if ep_is_set($value);
	return $value;
}

sub as_input {
	my ($password, $input) = @_;
	return $input eq "form" ? as_form_param($password) : utf8_bytes($password);
}

# Make a stored value the way EPrints would from this password.
sub make_stored {
	my ($password, $stored_from, $method, $forced_salt) = @_;
	my $value = $stored_from eq "bytes" ? utf8_bytes($password) : as_form_param($password);
	my $stored = ep_crypt($value, $method, $forced_salt);
	die "EPrints' crypt refused to hash this password\n" if !defined $stored;
	return $stored;
}

# ---------------------------------------------------------------------------------------
# Vectors
# ---------------------------------------------------------------------------------------

my @VECTORS;

sub record {
	my (%a) = @_;
	my $input = $a{input} // "form";
	my $result = eval { ep_crypt_equals($a{stored}, as_input($a{password}, $input)) };
	my $died = $@;
	my %params = (
		eprints_input => $input,
		stored_from   => $a{stored_from},
		refused       => (!$died && !defined $result) ? JSON::PP::true : JSON::PP::false,
		%{ $a{extra} // {} },
	);
	if ($a{scheme} =~ /bcrypt/) { $params{bcrypt_cost} = BCRYPT_COST + 0; }
	if ($died) { chomp $died; $params{verifier_died} = $died; }
	push @VECTORS, {
		platform => $PLATFORM,
		scheme   => $a{scheme},
		stored   => $a{stored},
		password => $a{password},
		matches  => ($result ? JSON::PP::true : JSON::PP::false),
		params   => \%params,
		note     => $a{note},
	};
	return $result;
}

sub main {
	my $out = File::Spec->catfile(dirname(File::Spec->rel2abs($0)), "vectors.json");
	GetOptions("out=s" => \$out) or die "usage: $0 [--out FILE]\n";

	# ---- method 1: traditional DES crypt (13 characters) ----
	my $d1 = make_stored("secret12", "form", EP_CRYPT_CRYPT);
	my %des = (scheme => "eprints-des", stored => $d1, stored_from => "form");
	record(%des, password => "secret12", note => "DES crypt, salt = first two characters");
	record(%des, password => "secret13", note => "wrong password");
	record(%des, password => "secret12-and-then-some",
		note => "DES uses only the first 8 characters: a longer password with the same first 8 matches");
	record(%des, password => "Ωmega-secret12", note => "refused: a character above U+00FF (form login)");
	record(%des, password => "secret\t12", note => "refused: a control character (below \\x20)");
	record(%des, password => "", note => "refused: empty password (is_set)");

	my $d2 = make_stored("pässwörd", "form", EP_CRYPT_CRYPT);
	%des = (scheme => "eprints-des", stored => $d2, stored_from => "form");
	record(%des, password => "pässwörd",
		note => "non-ASCII, set and checked through the web form: hashed as Latin-1 bytes p E4 s s w F6 r d");
	record(%des, password => "pdsswvrd",
		note => "DES keeps only the low 7 bits of each byte: E4 -> 'd', F6 -> 'v', so this ASCII password matches");
	record(%des, password => "pässwörd", input => "basic_auth",
		note => "same password over HTTP Basic auth arrives as UTF-8 bytes, which differ: no match");

	my $d3 = make_stored("pässwörd", "bytes", EP_CRYPT_CRYPT);
	%des = (scheme => "eprints-des", stored => $d3, stored_from => "bytes");
	record(%des, password => "pässwörd", input => "basic_auth",
		note => "stored from UTF-8 bytes (e.g. epadmin), checked over Basic auth (bytes): only the first 8 BYTES count");
	record(%des, password => "pässwörd", input => "form",
		note => "stored from UTF-8 bytes, checked through the web form (Latin-1 characters): no match");

	record(scheme => "eprints-des", stored => "*LK*", stored_from => "none", password => "secret12",
		note => "not a crypt value: crypt() with the invalid salt '*L' yields '*0', never equal");

	# ---- method 2: SHA-512, 10,000 (+1) rounds ----
	my $s1 = make_stored("123456", "form", EP_CRYPT_SHA512, "Ab");
	my %sha = (scheme => "eprints-sha512", stored => $s1, stored_from => "form");
	record(%sha, password => "123456", note => "SHA-512 method 2, salt 'Ab'");
	record(%sha, password => "1234567", note => "wrong password");

	my %q1 = URI->new($s1)->query_form;
	for my $order ([qw(salt digest method)], [qw(digest method salt)]) {
		my $uri = URI->new;
		$uri->query_form(map { ($_ => $q1{$_}) } @$order);
		record(%sha, stored => "$uri", password => "123456",
			note => "same hash, keys in another order (EPrints builds the query from a Perl hash, so any order occurs)");
	}
	(my $upper = $s1) =~ s/digest=([0-9a-f]+)/"digest=" . uc($1)/e;
	record(%sha, stored => $upper, password => "123456",
		note => "digest in UPPER-case hex: crypt_equals compares strings, so no match");

	my $s2 = make_stored("correct horse battery staple", "form", EP_CRYPT_SHA512, "./");
	%sha = (scheme => "eprints-sha512", stored => $s2, stored_from => "form");
	record(%sha, password => "correct horse battery staple",
		note => "salt './': URI->query_form writes '/' as %2F and leaves '.'");
	record(%sha, password => "correct horse battery staple ", note => "wrong password: trailing space");
	(my $raw = $s2) =~ s/%2F/\//g;
	record(%sha, stored => $raw, password => "correct horse battery staple",
		note => "same value with '/' not percent-encoded (EPrints never writes this; URI parsing accepts it)");

	my $s3 = make_stored("pässwörd-Åÿ", "form", EP_CRYPT_SHA512);
	%sha = (scheme => "eprints-sha512", stored => $s3, stored_from => "form");
	record(%sha, password => "pässwörd-Åÿ",
		note => "Latin-1-range password via the web form: SHA-512 over its Latin-1 bytes (U+00FF included)");
	record(%sha, password => "pässwörd-Åÿ", input => "basic_auth",
		note => "the same password over Basic auth is hashed as UTF-8 bytes: no match");
	record(%sha, password => "pässwörd-ÅΩ", note => "refused: Ω is above U+00FF");

	my $s4 = make_stored("pässwörd-Åÿ", "bytes", EP_CRYPT_SHA512);
	record(scheme => "eprints-sha512", stored => $s4, stored_from => "bytes", password => "pässwörd-Åÿ",
		input => "basic_auth", note => "stored from UTF-8 bytes, checked over Basic auth: match");

	for my $pw ("密码密码密码", "🔑 open-sesame 🚀") {
		my $s = make_stored($pw, "bytes", EP_CRYPT_SHA512);
		%sha = (scheme => "eprints-sha512", stored => $s, stored_from => "bytes");
		record(%sha, password => $pw, input => "basic_auth",
			note => "characters above U+00FF can only have been stored as UTF-8 bytes; Basic auth sends bytes: match");
		record(%sha, password => $pw, input => "form",
			note => "the web form decodes to characters above U+00FF: refused, so this user cannot log in through the form");
	}

	my $long200 = join("", map { chr(ord("a") + $_ % 26) } 0 .. 199);
	my $s5 = make_stored($long200, "form", EP_CRYPT_SHA512);
	%sha = (scheme => "eprints-sha512", stored => $s5, stored_from => "form");
	record(%sha, password => $long200, note => "200 characters (password_maxlength default): no truncation");
	record(%sha, password => $long200 . "z", note => "201 characters: no truncation, so no match");
	my $long250 = join("", map { chr(ord("A") + $_ % 26) } 0 .. 249);
	my $s6 = make_stored($long250, "direct", EP_CRYPT_SHA512);
	record(scheme => "eprints-sha512", stored => $s6, stored_from => "direct", password => $long250,
		note => "250 characters: crypt_equals has no length limit (password_maxlength applies only when setting)");

	# ---- method 3: bcrypt over the method-2 hex digest (tools/bcrypt_rehash_user_password) ----
	my $r1 = rehash_stored($s1);
	my %rh = (scheme => "eprints-bcrypt-rehash", stored => $r1, stored_from => "form");
	record(%rh, password => "123456", note => "method 3: bcrypt \$2a\$12\$ over _crypt_sha512('Ab', password), rehashed from the method-2 value");
	record(%rh, password => "1234567", note => "wrong password");
	my $r2 = rehash_stored($s3);
	record(scheme => "eprints-bcrypt-rehash", stored => $r2, stored_from => "form", password => "pässwörd-Åÿ",
		note => "method 3, Latin-1-range password via the web form");

	# ---- method 4: bcrypt $2a$12$ (the 3.4 default) ----
	my $b1 = make_stored("123456", "form");
	my %bc = (scheme => "eprints-bcrypt", stored => $b1, stored_from => "form");
	record(%bc, password => "123456", note => "method 4, bcrypt \$2a\$12\$, the digest's '\$' written as %24");
	record(%bc, password => "1234567", note => "wrong password");
	my $p72 = join("", map { chr(ord("a") + $_ % 26) } 0 .. 71);
	my $b2 = make_stored($p72, "form");
	record(scheme => "eprints-bcrypt", stored => $b2, stored_from => "form", password => $p72 . "-anything",
		note => "stored from a 72-byte password: the key is cut to 72 bytes (the NUL falls off), so a longer password with the same 72 bytes matches");
	my $p71 = substr($p72, 0, 71);
	my $b3 = make_stored($p71, "form");
	record(scheme => "eprints-bcrypt", stored => $b3, stored_from => "form", password => $p71 . "X",
		note => "stored from a 71-byte password: its key is those 71 bytes plus NUL, so appending a 72nd character does NOT match");
	my $b4 = make_stored("pässwörd-Åÿ", "form");
	%bc = (scheme => "eprints-bcrypt", stored => $b4, stored_from => "form");
	record(%bc, password => "pässwörd-Åÿ", note => "method 4, Latin-1-range password via the web form (Latin-1 bytes)");
	record(%bc, password => "pässwörd-ÅΩ", note => "refused before any bcrypt work: Ω is above U+00FF");

	write_merged($out, \@VECTORS);
	my %counts;
	$counts{ $_->{scheme} }++ for @VECTORS;
	printf STDERR "wrote %d eprints vectors to %s: %s\n", scalar(@VECTORS), $out,
		join(", ", map { "$_ $counts{$_}" } sort keys %counts);
	printf STDERR "versions: perl %s, URI %s, Digest::SHA %s, Crypt::Eksblowfish::Bcrypt %s, Data::Entropy %s\n",
		sprintf("%vd", $^V), $URI::VERSION, $Digest::SHA::VERSION,
		$Crypt::Eksblowfish::Bcrypt::VERSION, $Data::Entropy::Algorithms::VERSION // "?";
}

sub write_merged {
	my ($path, $vectors) = @_;
	my $json = JSON::PP->new->utf8->canonical->space_after;
	my @kept;
	if (-e $path) {
		open(my $fh, "<:raw", $path) or die "$path: $!";
		local $/;
		my $text = <$fh>;
		close $fh;
		for my $line (split /\n/, $text) {
			$line =~ s/^\s+//;
			$line =~ s/,?\s*$//;
			next if $line !~ /^\{/;
			push @kept, $line if JSON::PP::decode_json($line)->{platform} ne $PLATFORM;
		}
	}
	my @lines = (@kept, map { $json->encode($_) } @$vectors);
	my %rank = map { $PLATFORM_ORDER[$_] => $_ } 0 .. $#PLATFORM_ORDER;
	my @keyed = map { [ $rank{ JSON::PP::decode_json($_)->{platform} }, $_ ] } @lines;
	@lines = map { $_->[1] } sort { $a->[0] <=> $b->[0] } @keyed;    # Perl's sort is stable
	open(my $fh, ">:raw", $path) or die "$path: $!";
	print $fh "[\n" . join(",\n", @lines) . "\n]\n";
	close $fh;
}

main();
