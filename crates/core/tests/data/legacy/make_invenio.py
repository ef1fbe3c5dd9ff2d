#!/usr/bin/env python3
"""Known-answer vectors for InvenioRDM password hashes, made by InvenioRDM's own code.

Nothing here re-implements a hash: every `stored` value comes from
`flask_security.utils.hash_password` (or, for the legacy Invenio 1.x scheme, from the
`InvenioAesEncryptedEmail` handler that invenio-accounts registers with passlib), inside a
minimal Flask app that has the `InvenioAccounts` extension, and every `matches` value comes from
`flask_security.utils.verify_password` in the app context whose configuration the vector's
`params` describe. Where the verifier raises (a malformed or unknown hash), `matches` is false
and `params.verifier_raised` names the exception.

Run inside the virtual environment described in README.md:

    /tmp/venv-legacy/bin/python make_invenio.py            # rewrites the invenio lines of vectors.json

The salts passlib draws are random, so every run writes different `stored` values; the
`matches` values do not change.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import unicodedata
import warnings
from importlib.metadata import version

from flask import Flask
from flask_security.utils import hash_password, verify_password
from invenio_accounts import InvenioAccounts

PLATFORM = "invenio"
PLATFORM_ORDER = ["invenio", "eprints", "dspace"]

# Flask-Security warns that passing rounds through SECURITY_PASSWORD_HASH_OPTIONS is
# deprecated in passlib; it is still the code path an instance with that setting takes.
warnings.simplefilter("ignore", DeprecationWarning)

_app_counter = 0


def make_app(secret_key, password_salt=None, single_hash=None, rounds=None):
    """A minimal InvenioRDM-like app: the InvenioAccounts extension sets Invenio's
    Flask-Security defaults (pbkdf2_sha512, the invenio_aes_encrypted_email scheme,
    SECURITY_PASSWORD_SALT defaulting to SECRET_KEY)."""
    global _app_counter
    _app_counter += 1
    app = Flask(f"gatehouse_vectors_{_app_counter}")
    app.config["SECRET_KEY"] = secret_key
    if password_salt is not None:
        app.config["SECURITY_PASSWORD_SALT"] = password_salt
    if single_hash is not None:
        app.config["SECURITY_PASSWORD_SINGLE_HASH"] = single_hash
    if rounds is not None:
        app.config["SECURITY_PASSWORD_HASH_OPTIONS"] = {"pbkdf2_sha512": {"rounds": rounds}}
    InvenioAccounts(app)
    app.gatehouse_salt_from = "SECRET_KEY" if password_salt is None else "SECURITY_PASSWORD_SALT"
    return app


def app_params(app):
    """What the importer needs to know about the instance, read back from the app."""
    cfg = app.config
    single = cfg.get("SECURITY_PASSWORD_SINGLE_HASH")
    return {
        "invenio_password_salt": cfg["SECURITY_PASSWORD_SALT"],
        "salt_from": app.gatehouse_salt_from,
        "single_hash": bool(single is True or (single and "pbkdf2_sha512" in single)),
    }


def do_hash(app, password):
    with app.app_context():
        return hash_password(password)


def do_hash_aes(app, password, email):
    """Legacy Invenio 1.x scheme, hashed by the handler invenio-accounts registers."""
    with app.app_context():
        ctx = app.extensions["security"].pwd_context
        return ctx.handler("invenio_aes_encrypted_email").using(salt=email).hash(password)


def do_verify(app, password, stored):
    with app.app_context():
        try:
            return bool(verify_password(password, stored)), None
        except Exception as exc:  # the platform raised: the login fails
            return False, f"{type(exc).__name__}: {exc}"


VECTORS = []


def record(app, scheme, stored, password, note, extra=None):
    matches, raised = do_verify(app, password, stored)
    params = app_params(app)
    if stored.startswith("$pbkdf2-sha512$"):
        rounds_field = stored.split("$")[2]
        params["rounds"] = int(rounds_field) if rounds_field.isdigit() else rounds_field
    if extra:
        params.update(extra)
    if raised:
        params["verifier_raised"] = raised
    VECTORS.append(
        {
            "platform": PLATFORM,
            "scheme": scheme,
            "stored": stored,
            "password": password,
            "matches": matches,
            "params": params,
            "note": note,
        }
    )
    return matches


def nfd(s):
    return unicodedata.normalize("NFD", s)


def mojibake(s):
    """The UTF-8 bytes of s read back as Latin-1 characters (a wrong-encoding attempt)."""
    return s.encode("utf-8").decode("latin-1")


LONG = (
    "The quick brown fox jumps over the lazy dog; "
    "Pack my box with five dozen liquor jugs! "
    "Sphinx of black quartz, judge my vow. 0123456789-END"
)
assert len(LONG) >= 128, len(LONG)

PASSWORDS = {
    # name: (password, [(wrong attempt, why it must fail), ...])
    "six": ("123456", [("1234567", "one character appended")]),
    "ascii": (
        "correct horse battery staple",
        [("Correct horse battery staple", "case differs")],
    ),
    "latin": (
        "pässwörd-ÅΩ",
        [(nfd("pässwörd-ÅΩ"), "same text in Unicode NFD: no normalisation happens"),
         (mojibake("pässwörd-ÅΩ"), "UTF-8 bytes read as Latin-1 (mojibake)")],
    ),
    "cjk": ("密码密码密码", [("密码密码密", "last character dropped")]),
    "emoji": ("🔑 open-sesame 🚀", [("🔑 open-sesame", "trailing space and emoji dropped")]),
    "long": (
        LONG,
        [(LONG[:-1] + "X", f"last of {len(LONG)} characters differs: no truncation"),
         (LONG[:72], "first 72 characters only")],
    ),
    "spaces": (" padded password ", [("padded password", "trimmed: the platform does not trim")]),
    "nfc": ("café", [(nfd("café"), "NFD form of the password: no normalisation happens")]),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors.json")
    )
    args = parser.parse_args()

    # A. The default InvenioRDM setting: SECRET_KEY = "CHANGE_ME" (invenio-cli's template value),
    #    SECURITY_PASSWORD_SALT unset so invenio-accounts defaults it to SECRET_KEY.
    app_a = make_app("CHANGE_ME")
    # B. An instance that sets its own SECURITY_PASSWORD_SALT, different from SECRET_KEY.
    app_b = make_app("a-different-secret-key", password_salt="9hT2-instance-salt/Qx+Zr=")
    # C. A salt with non-ASCII characters (Flask-Security encodes it as UTF-8 for the HMAC key).
    app_c = make_app("clé-secrète-ß")
    # D. Single hashing: the password itself goes into PBKDF2.
    app_d = make_app("CHANGE_ME", single_hash=["pbkdf2_sha512"])
    # E. Non-default rounds.
    app_e1 = make_app("CHANGE_ME", rounds=1000)
    app_e2 = make_app("CHANGE_ME", rounds=29000)
    app_d1 = make_app("CHANGE_ME", single_hash=["pbkdf2_sha512"], rounds=1000)

    # --- A: salt CHANGE_ME, double hash, 25000 rounds
    stored_a = {}
    for name, (pw, wrongs) in PASSWORDS.items():
        stored = do_hash(app_a, pw)
        stored_a[name] = stored
        record(app_a, "pbkdf2-sha512", stored, pw, f"double hash, default salt = SECRET_KEY; password: {name}")
        for wrong, why in wrongs:
            record(app_a, "pbkdf2-sha512", stored, wrong, f"wrong password: {why}")
    # The contract's worked example: the PBKDF2 input is base64(HMAC-SHA512(salt, password)).
    hmac_b64 = base64.b64encode(
        hmac.new(b"CHANGE_ME", "123456".encode("utf-8"), hashlib.sha512).digest()
    ).decode("ascii")
    record(app_a, "pbkdf2-sha512", stored_a["six"], hmac_b64,
           "wrong password: the 88-character pre-hash itself, which this (double-hash) instance HMACs again")

    # --- B: another salt
    for name in ("six", "latin", "cjk"):
        pw, wrongs = PASSWORDS[name]
        stored = do_hash(app_b, pw)
        record(app_b, "pbkdf2-sha512", stored, pw,
               f"double hash, SECURITY_PASSWORD_SALT set and different from SECRET_KEY; password: {name}")
        if name in ("six", "latin"):
            wrong, why = wrongs[0]
            record(app_b, "pbkdf2-sha512", stored, wrong, f"wrong password: {why}")
        if name in ("six", "cjk"):
            record(app_a, "pbkdf2-sha512", stored, pw,
                   "right password, wrong instance salt (hash made with salt 9hT2-..., verified with CHANGE_ME)")
            record(app_b, "pbkdf2-sha512", stored_a[name], pw,
                   "right password, wrong instance salt (hash made with CHANGE_ME, verified with 9hT2-...)")

    # --- C: non-ASCII salt
    stored = do_hash(app_c, "123456")
    record(app_c, "pbkdf2-sha512", stored, "123456", "double hash, non-ASCII salt (UTF-8 bytes are the HMAC key)")
    record(app_c, "pbkdf2-sha512", stored, "123457", "wrong password")

    # --- D: single hash (SECURITY_PASSWORD_SINGLE_HASH = ["pbkdf2_sha512"])
    for name in ("six", "latin", "cjk", "long"):
        pw, wrongs = PASSWORDS[name]
        stored = do_hash(app_d, pw)
        record(app_d, "invenio-single", stored, pw,
               f"single hash (SECURITY_PASSWORD_SINGLE_HASH = ['pbkdf2_sha512']): PBKDF2 over the password; password: {name}")
        wrong, why = wrongs[0]
        record(app_d, "invenio-single", stored, wrong, f"wrong password: {why}")
        if name == "six":
            record(app_a, "pbkdf2-sha512", stored, pw,
                   "single-hash value verified by a double-hash instance: fails")
    record(app_d, "invenio-single", stored_a["six"], "123456",
           "double-hash value verified by a single-hash instance with the plain password: fails")
    record(app_d, "invenio-single", stored_a["six"], hmac_b64,
           "double-hash value verified by a single-hash instance with base64(HMAC-SHA512(b'CHANGE_ME', b'123456')) as the password: matches (the contract's worked example)")

    # --- E: non-default rounds
    for app_r, scheme, names in (
        (app_e1, "pbkdf2-sha512", ("six", "latin")),
        (app_e2, "pbkdf2-sha512", ("six",)),
        (app_d1, "invenio-single", ("six", "latin")),
    ):
        for name in names:
            pw, wrongs = PASSWORDS[name]
            stored = do_hash(app_r, pw)
            rounds = app_r.config["SECURITY_PASSWORD_HASH_OPTIONS"]["pbkdf2_sha512"]["rounds"]
            record(app_r, scheme, stored, pw, f"SECURITY_PASSWORD_HASH_OPTIONS rounds = {rounds}; password: {name}")
            if name == "six":
                record(app_r, scheme, stored, wrongs[0][0], f"wrong password: {wrongs[0][1]}")

    # --- F: how passlib parses the stored string
    s = next(v for v in stored_a.values() if "." in v.split("$", 3)[3])
    record(app_a, "pbkdf2-sha512", s.replace(".", "+"),
           next(pw for n, (pw, _) in PASSWORDS.items() if stored_a[n] == s),
           "non-canonical: '+' written where passlib's ab64 writes '.'; passlib's ab64_decode maps '.' to '+' and so accepts both")
    s6 = stored_a["six"]
    record(app_a, "pbkdf2-sha512", s6.replace("$25000$", "$025000$", 1), "123456",
           "malformed: zero-padded rounds are rejected by passlib (parse_mc3)")
    record(app_a, "pbkdf2-sha512", s6[:-2], "123456",
           "malformed: checksum shortened by two characters")

    # --- G: the deprecated Invenio 1.x scheme (in SECURITY_PASSWORD_SINGLE_HASH by default)
    email = "info@inveniosoftware.org"
    stored = do_hash_aes(app_a, "123456", email)
    record(app_a, "invenio-aes-encrypted-email", stored, "123456",
           "legacy Invenio 1.x: sha256-hex(AES-128-ECB(key = password bytes XOR-folded to 16 bytes, data = the email, PKCS#7-style padding)); salt field = email",
           {"aes_email": email})
    record(app_a, "invenio-aes-encrypted-email", stored, "1234567", "wrong password", {"aes_email": email})
    stored = do_hash_aes(app_a, "pässwörd-ÅΩ", email)
    record(app_a, "invenio-aes-encrypted-email", stored, "pässwörd-ÅΩ",
           "legacy Invenio 1.x scheme, non-ASCII password (UTF-8 bytes are XOR-folded into the key)",
           {"aes_email": email})
    pw_fold = "a" * 16 + "b" * 16
    stored = do_hash_aes(app_a, pw_fold, email)
    record(app_a, "invenio-aes-encrypted-email", stored, "b" * 16 + "a" * 16,
           "a DIFFERENT password matches: the key is the password XOR-folded to 16 bytes, and these two fold to the same key",
           {"aes_email": email})

    write_merged(args.out, VECTORS)
    counts = {}
    for v in VECTORS:
        counts[v["scheme"]] = counts.get(v["scheme"], 0) + 1
    print(f"wrote {len(VECTORS)} invenio vectors to {args.out}: {counts}", file=sys.stderr)
    print("versions: " + ", ".join(
        f"{p} {version(p)}" for p in ("invenio-accounts", "Flask-Security-Invenio", "libpass", "Flask")
    ), file=sys.stderr)


def dump_line(v):
    return json.dumps(v, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def write_merged(path, vectors):
    """vectors.json holds one vector per line; keep the other platforms' lines, replace ours."""
    kept = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f.read().split("\n"):
                line = line.strip().rstrip(",")
                if not line.startswith("{"):
                    continue
                if json.loads(line)["platform"] != PLATFORM:
                    kept.append(line)
    lines = kept + [dump_line(v) for v in vectors]
    lines.sort(key=lambda line: PLATFORM_ORDER.index(json.loads(line)["platform"]))  # stable
    with open(path, "w", encoding="utf-8") as f:
        f.write("[\n" + ",\n".join(lines) + "\n]\n")


if __name__ == "__main__":
    main()
