#!/usr/bin/perl
# make_passwords.pl - stored EPrints password values for the `migrate-from eprints` test
# (crates/cli/tests/migrate_eprints_e2e.rs), made as EPrints::Utils::crypt makes them.
#
# Usage:  perl make_passwords.pl METHOD PASSWORD [METHOD PASSWORD ...]
#   prints one stored value per pair, one a line. PASSWORD arrives as UTF-8 bytes and is
#   decoded as Repository::param decodes a form field, so U+0080..U+00FF are hashed as one
#   Latin-1 byte each, as EPrints does for a password set through its web form.
#   METHOD: 1 traditional DES crypt (EP_CRYPT_CRYPT), 2 SHA-512 (EP_CRYPT_SHA512),
#   3 bcrypt over the method-2 digest (EP_CRYPT_BCRYPT_REHASH, what
#   tools/bcrypt_rehash_user_password writes), 4 bcrypt (EP_CRYPT_BCRYPT).
# Needs Debian's libcrypt-eksblowfish-perl, libdata-entropy-perl and liburi-perl.
#
# Re-stated from eprints/eprints3.4 perl_lib/EPrints/Utils.pm (crypt, _crypt_sha512,
# _crypt_bcrypt, bcrypt_rehash), as crates/core/tests/data/legacy/make_eprints.pl explains
# line by line; nothing is copied.

use strict;
use warnings;

use Digest::SHA ();
use URI ();
use Crypt::Eksblowfish::Bcrypt ();
use Data::Entropy::Algorithms ();

use constant BCRYPT_COST => 12;

# _crypt_sha512: SHA-512(salt . value), 9,999 more SHA-512s, the hex of one more.
sub crypt_sha512 {
	my ($salt, $value) = @_;
	my $d = Digest::SHA::sha512($salt . $value);
	my $left = 10000;
	$d = Digest::SHA::sha512($d) while --$left;
	return Digest::SHA::sha512_hex($d);
}

# _crypt_bcrypt: 16 random bytes of salt, cost 12, NUL-terminated key ($2a$).
sub crypt_bcrypt {
	my ($value) = @_;
	my $salt = Data::Entropy::Algorithms::rand_bits(128);
	my $hash = Crypt::Eksblowfish::Bcrypt::bcrypt_hash(
		{ key_nul => 1, cost => BCRYPT_COST, salt => $salt }, $value);
	return sprintf('$2a$%d$', BCRYPT_COST)
		. Crypt::Eksblowfish::Bcrypt::en_base64($salt)
		. Crypt::Eksblowfish::Bcrypt::en_base64($hash);
}

sub query {
	my $uri = URI->new;
	$uri->query_form(@_);
	return "$uri";
}

sub stored {
	my ($method, $value) = @_;
	die "EPrints refuses characters outside \\x20-\\xff\n" if $value =~ m/[^\x20-\xff]/;
	my @chars = ('a' .. 'z', 'A' .. 'Z', '0' .. '9', '.', '/');
	my $salt = $chars[int(rand(@chars))] . $chars[int(rand(@chars))];
	return CORE::crypt($value, $salt) if $method == 1;
	return query(method => 2, salt => $salt, digest => crypt_sha512($salt, $value)) if $method == 2;
	return query(method => 3, salt => $salt, digest => crypt_bcrypt(crypt_sha512($salt, $value)))
		if $method == 3;
	return query(method => 4, digest => crypt_bcrypt($value)) if $method == 4;
	die "unknown method $method\n";
}

die "usage: $0 METHOD PASSWORD [METHOD PASSWORD ...]\n" if !@ARGV || @ARGV % 2;
while (my ($method, $password) = splice(@ARGV, 0, 2)) {
	utf8::decode($password);
	print stored($method, $password), "\n";
}
