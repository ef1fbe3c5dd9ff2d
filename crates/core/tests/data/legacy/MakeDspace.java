// MakeDspace.java - known-answer vectors for DSpace password hashes.
//
// Usage (Java 17+, no dependencies):  java MakeDspace.java [--out vectors.json]
//   (rewrites the "dspace" lines of vectors.json and keeps the other platforms' lines)
//
// What this re-states, in my own code (nothing is copied):
//   DSpace/DSpace, dspace-api/src/main/java/org/dspace/eperson/PasswordHash.java at commit
//   3d8bdc92c0471fcc02946b526e1cd545ed8c5c88 (main, 11.0-SNAPSHOT). The hashing in that file
//   has not changed since 2012 (its later commits are code style and logging), so DSpace 7, 8
//   and 9 hash the same way:
//     - the (algorithm, salt hex, hash hex) constructor: an EMPTY algorithm becomes null; the
//       hex strings are decoded with commons-codec Hex.decodeHex (upper or lower case; odd
//       length or a non-hex character throws DecoderException);
//     - digest(): algorithm null = old unsalted one-trip MD5 of the UTF-8 password (any salt is
//       ignored); otherwise MessageDigest(algorithm): update(salt) when the salt is not null,
//       update(UTF-8 password), then 1,023 times "x = digest(); reset; update(x)", then a final
//       digest(): 1,024 applications in all. A null password counts as "".
//     - matches(): Arrays.equals(digest(...), stored hash bytes).
//   dspace-api/src/main/java/org/dspace/eperson/EPersonServiceImpl.java, checkPassword():
//     a DecoderException from the constructor means false; a correct password on a hash whose
//     digest_algorithm is NULL is then re-hashed (not if it is the empty string).
//   New hashes: 16 random bytes of salt (SecureRandom), algorithm from
//   authentication-password.digestAlgorithm, default "SHA-512"; stored as lower-case hex.
//
// Gatehouse receives "dspace:ALGORITHM:SALT_HEX:HASH_HEX" (empty ALGORITHM = the old MD5).
// Every "matches" value comes from running the re-stated matches(); nothing is typed.
// Non-ASCII literals are written as \\u escapes: Java 17 reads a source file in the platform
// charset, which is not UTF-8 under every locale.

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class MakeDspace {
    static final String PLATFORM = "dspace";
    static final List<String> PLATFORM_ORDER = List.of("invenio", "eprints", "dspace");

    static final int SALT_BYTES = 128 / 8;
    static final int HASH_ROUNDS = 1024;
    static final SecureRandom RNG = new SecureRandom();

    // ------------------------------------------------------------------ PasswordHash

    static final class DecoderException extends Exception {
        DecoderException(String m) { super(m); }
    }

    /** commons-codec Hex.decodeHex: pairs of hex digits, either case. */
    static byte[] decodeHex(String s) throws DecoderException {
        if (s.length() % 2 != 0) {
            throw new DecoderException("Odd number of characters.");
        }
        byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) {
            int hi = Character.digit(s.charAt(2 * i), 16);
            int lo = Character.digit(s.charAt(2 * i + 1), 16);
            if (hi < 0 || lo < 0) {
                throw new DecoderException("Illegal hexadecimal character at index " + (2 * i));
            }
            out[i] = (byte) ((hi << 4) | lo);
        }
        return out;
    }

    static String toHex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(Character.forDigit((x >> 4) & 0xF, 16)).append(Character.forDigit(x & 0xF, 16));
        }
        return sb.toString();
    }

    static byte[] digest(byte[] salt, String algorithm, String secret) throws NoSuchAlgorithmException {
        if (secret == null) {
            secret = "";
        }
        if (algorithm == null) { // the old unsalted one-trip MD5
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            md5.update(secret.getBytes(StandardCharsets.UTF_8));
            return md5.digest();
        }
        MessageDigest d = MessageDigest.getInstance(algorithm);
        if (salt != null) {
            d.update(salt);
        }
        d.update(secret.getBytes(StandardCharsets.UTF_8));
        for (int round = 1; round < HASH_ROUNDS; round++) {
            byte[] last = d.digest(); // digest() also resets
            d.update(last);
        }
        return d.digest();
    }

    /** The eperson row's three columns, as the (String, String, String) constructor takes them. */
    record Row(String digestAlgorithm, String saltHex, String hashHex) {
        String stored() {
            return "dspace:" + nz(digestAlgorithm) + ":" + nz(saltHex) + ":" + nz(hashHex);
        }
    }

    static String nz(String s) { return s == null ? "" : s; }

    /** EPersonServiceImpl.checkPassword -> new PasswordHash(alg, salt, hash).matches(attempt). */
    static Object[] checkPassword(Row row, String attempt) {
        String algorithm = (row.digestAlgorithm() != null && row.digestAlgorithm().isEmpty()) ? null : row.digestAlgorithm();
        byte[] salt;
        byte[] hash;
        try {
            salt = row.saltHex() == null ? null : decodeHex(row.saltHex());
            hash = row.hashHex() == null ? null : decodeHex(row.hashHex());
        } catch (DecoderException e) {
            return new Object[] {false, "DecoderException: " + e.getMessage()};
        }
        try {
            return new Object[] {Arrays.equals(digest(salt, algorithm, attempt), hash), null};
        } catch (NoSuchAlgorithmException e) {
            return new Object[] {false, "NoSuchAlgorithmException: " + e.getMessage()};
        }
    }

    /** EPersonServiceImpl.setPassword with a given algorithm (DSpace's default is SHA-512). */
    static Row setPassword(String password, String algorithm) throws NoSuchAlgorithmException {
        byte[] salt = new byte[SALT_BYTES];
        RNG.nextBytes(salt);
        return new Row(algorithm, toHex(salt), toHex(digest(salt, algorithm, password)));
    }

    /** A hash from before 2012: digest_algorithm NULL, no salt, one-trip MD5. */
    static Row oldMd5(String password) throws NoSuchAlgorithmException {
        return new Row(null, null, toHex(digest(null, null, password)));
    }

    // ------------------------------------------------------------------ vectors

    static final List<Map<String, Object>> VECTORS = new ArrayList<>();

    static void record(String scheme, Row row, String password, String note) {
        record(scheme, row.stored(), row, password, note);
    }

    static void record(String scheme, String stored, Row row, String password, String note) {
        Object[] r = checkPassword(row, password);
        Map<String, Object> params = new TreeMap<>();
        params.put("digest_algorithm", row.digestAlgorithm());
        params.put("rounds", (row.digestAlgorithm() == null || row.digestAlgorithm().isEmpty()) ? 1 : HASH_ROUNDS);
        if (r[1] != null) {
            params.put("verifier_raised", r[1]);
        }
        Map<String, Object> v = new TreeMap<>();
        v.put("platform", PLATFORM);
        v.put("scheme", scheme);
        v.put("stored", stored);
        v.put("password", password);
        v.put("matches", r[0]);
        v.put("params", params);
        v.put("note", note);
        VECTORS.add(v);
    }

    static String nfd(String s) { return Normalizer.normalize(s, Normalizer.Form.NFD); }

    static String mojibake(String s) {
        return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    static String repeat(String s, int n) { return s.repeat(n); }

    public static void main(String[] args) throws Exception {
        Path out = Paths.get("vectors.json"); // run from this folder, or pass --out
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--out") && i + 1 < args.length) {
                out = Paths.get(args[++i]);
            }
        }

        String latin = "p\u00e4ssw\u00f6rd-\u00c5\u03a9";
        String cjk = "\u5bc6\u7801\u5bc6\u7801\u5bc6\u7801";
        String emoji = "\uD83D\uDD11 open-sesame \uD83D\uDE80";
        String longPw = "The quick brown fox jumps over the lazy dog; "
                + "Pack my box with five dozen liquor jugs! "
                + "Sphinx of black quartz, judge my vow. 0123456789-END";

        // SHA-512, 16-byte salt, 1,024 rounds (the default since DSpace 3)
        Row r = setPassword("123456", "SHA-512");
        record("dspace-sha512", r, "123456", "SHA-512, 16-byte salt, 1024 digest applications");
        record("dspace-sha512", r, "1234567", "wrong password");
        Row other = setPassword("123456", "SHA-512");
        record("dspace-sha512", new Row("SHA-512", other.saltHex(), r.hashHex()), "123456",
                "right password, salt of another row: no match");
        Row upper = new Row("SHA-512", r.saltHex().toUpperCase(), r.hashHex().toUpperCase());
        record("dspace-sha512", upper, "123456", "salt and hash in UPPER-case hex: Hex.decodeHex accepts either case");
        Row odd = new Row("SHA-512", r.saltHex(), r.hashHex().substring(1));
        record("dspace-sha512", odd, "123456", "malformed: odd-length hash hex throws DecoderException, so false");

        r = setPassword("correct horse battery staple", "SHA-512");
        record("dspace-sha512", r, "correct horse battery staple", "ASCII passphrase");
        record("dspace-sha512", r, "correct horse battery stapl", "wrong password: last character dropped");

        r = setPassword(latin, "SHA-512");
        record("dspace-sha512", r, latin, "non-ASCII: String.getBytes(UTF_8)");
        record("dspace-sha512", r, nfd(latin), "wrong password: NFD form of the same text (no normalisation)");
        record("dspace-sha512", r, mojibake(latin), "wrong password: UTF-8 bytes read as Latin-1 (mojibake)");

        r = setPassword(cjk, "SHA-512");
        record("dspace-sha512", r, cjk, "CJK password, UTF-8 bytes");

        r = setPassword(emoji, "SHA-512");
        record("dspace-sha512", r, emoji, "emoji: a surrogate pair in Java, 4 UTF-8 bytes each");
        record("dspace-sha512", r, "\uD83D\uDD11 open-sesame", "wrong password: trailing space and emoji dropped");

        r = setPassword(longPw, "SHA-512");
        record("dspace-sha512", r, longPw, longPw.length() + " characters: no truncation");
        record("dspace-sha512", r, longPw.substring(0, longPw.length() - 1) + "X",
                "wrong password: last character differs");

        r = setPassword(" padded password ", "SHA-512");
        record("dspace-sha512", r, " padded password ", "leading and trailing spaces are part of the password");
        record("dspace-sha512", r, "padded password", "wrong password: trimmed");

        byte[] noSaltHash = digest(null, "SHA-512", "123456");
        Row noSalt = new Row("SHA-512", null, toHex(noSaltHash));
        record("dspace-sha512", noSalt, "123456", "salt column NULL: no salt update, still 1024 rounds");

        // The old unsalted MD5: digest_algorithm NULL (or empty), one trip
        Row m = oldMd5("123456");
        record("dspace-md5", m, "123456", "digest_algorithm NULL: unsalted MD5, one application (upgraded on login)");
        record("dspace-md5", m, "1234567", "wrong password");
        record("dspace-md5", new Row("", "", m.hashHex()), "123456",
                "digest_algorithm and salt empty strings: treated as NULL (the same stored text)");
        record("dspace-md5", new Row(null, other.saltHex(), m.hashHex()), "123456",
                "MD5 row that also has a salt: the salt is ignored for the old MD5");
        m = oldMd5(latin);
        record("dspace-md5", m, latin, "old MD5, non-ASCII password (UTF-8 bytes)");
        record("dspace-md5", m, mojibake(latin), "wrong password: UTF-8 bytes read as Latin-1 (mojibake)");

        // Any JCA algorithm name may be configured (authentication-password.digestAlgorithm)
        r = setPassword("123456", "MD5");
        record("dspace-digest", r, "123456", "digest_algorithm 'MD5' (configured): salted, 1024 rounds, NOT the old one-trip MD5");
        r = setPassword("123456", "SHA-256");
        record("dspace-digest", r, "123456", "digest_algorithm 'SHA-256' (configured): salted, 1024 rounds");

        writeMerged(out);
        Map<String, Integer> counts = new TreeMap<>();
        for (Map<String, Object> v : VECTORS) {
            counts.merge((String) v.get("scheme"), 1, Integer::sum);
        }
        System.err.println("wrote " + VECTORS.size() + " dspace vectors to " + out + ": " + counts);
        System.err.println("versions: java " + System.getProperty("java.version") + " ("
                + System.getProperty("java.vendor") + "), file.encoding " + System.getProperty("file.encoding"));
    }

    // ------------------------------------------------------------------ JSON

    static String json(Object o) {
        if (o == null) {
            return "null";
        }
        if (o instanceof Boolean || o instanceof Integer) {
            return o.toString();
        }
        if (o instanceof String s) {
            StringBuilder sb = new StringBuilder("\"");
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    case '\b' -> sb.append("\\b");
                    case '\f' -> sb.append("\\f");
                    default -> {
                        if (c < 0x20) {
                            sb.append(String.format("\\u%04x", (int) c));
                        } else {
                            sb.append(c);
                        }
                    }
                }
            }
            return sb.append('"').toString();
        }
        if (o instanceof Map<?, ?> map) {
            StringBuilder sb = new StringBuilder("{");
            boolean first = true;
            for (Map.Entry<?, ?> e : new TreeMap<>(map).entrySet()) {
                if (!first) {
                    sb.append(", ");
                }
                first = false;
                sb.append(json(e.getKey())).append(": ").append(json(e.getValue()));
            }
            return sb.append('}').toString();
        }
        throw new IllegalArgumentException("cannot write " + o.getClass());
    }

    static final Pattern PLATFORM_FIELD = Pattern.compile("\"platform\": \"([a-z]+)\"");

    static String platformOf(String line) {
        Matcher mm = PLATFORM_FIELD.matcher(line);
        if (!mm.find()) {
            throw new IllegalStateException("no platform in line: " + line);
        }
        return mm.group(1);
    }

    static void writeMerged(Path path) throws IOException {
        List<String> lines = new ArrayList<>();
        if (Files.exists(path)) {
            for (String line : Files.readString(path, StandardCharsets.UTF_8).split("\n")) {
                line = line.strip();
                if (line.endsWith(",")) {
                    line = line.substring(0, line.length() - 1);
                }
                if (line.startsWith("{") && !platformOf(line).equals(PLATFORM)) {
                    lines.add(line);
                }
            }
        }
        for (Map<String, Object> v : VECTORS) {
            lines.add(json(v));
        }
        List<String> sorted = new ArrayList<>(lines);
        sorted.sort((a, b) -> Integer.compare(PLATFORM_ORDER.indexOf(platformOf(a)), PLATFORM_ORDER.indexOf(platformOf(b))));
        Files.writeString(path, "[\n" + String.join(",\n", sorted) + "\n]\n", StandardCharsets.UTF_8);
    }
}
