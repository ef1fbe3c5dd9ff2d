//! `migrate-from eprints` on the real binary against a real MariaDB holding EPrints' own
//! `user`, `user_roles` and `user_editperms` tables (as EPrints' SQL generator makes them),
//! passwords stored by Perl exactly as `EPrints::Utils::crypt` stores them
//! (`tests/data/eprints/make_passwords.pl`, all four methods), and a `cfg.d/user_roles.pl`
//! with the documentation's approve-hat, the four default types and a
//! `+eprint/archive/edit:owner` entry. Then each password logs in, a wrong one does not, the
//! first log in replaces the hash, and editorial scope searches became scope filters.
//!
//! Needs `GATEHOUSE_TEST_MYSQL_URL` (e.g. `mysql://root@127.0.0.1:3306`) and Perl with
//! Crypt::Eksblowfish; without them the test says it is skipped and passes, unless
//! `GATEHOUSE_REQUIRE_MYSQL=1` (which `.ci/run` sets).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Env, Server};

const DDL: &str = r#"
CREATE TABLE `user` (
  `userid` INT NOT NULL,
  `rev_number` INT,
  `username` VARCHAR(255) COLLATE utf8mb4_general_ci,
  `password` VARCHAR(255),
  `usertype` VARCHAR(255),
  `newemail` VARCHAR(255),
  `newpassword` VARCHAR(255),
  `pin` VARCHAR(255),
  `pinsettime` INT,
  `loginattempts` INT,
  `unlocktime` INT,
  `joined_year` SMALLINT, `joined_month` SMALLINT, `joined_day` SMALLINT,
  `joined_hour` SMALLINT, `joined_minute` SMALLINT, `joined_second` SMALLINT,
  `email` VARCHAR(255),
  `lang` VARCHAR(255),
  `frequency` VARCHAR(255),
  `mailempty` VARCHAR(5),
  `name_family` VARCHAR(255),
  `name_given` VARCHAR(255),
  `name_lineage` VARCHAR(255),
  `name_honourific` VARCHAR(255),
  `dept` VARCHAR(255),
  `org` VARCHAR(255),
  PRIMARY KEY (`userid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE `user_roles` (
  `userid` INT NOT NULL,
  `pos` INT NOT NULL,
  `roles` VARCHAR(255),
  PRIMARY KEY (`userid`, `pos`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE `user_editperms` (
  `userid` INT NOT NULL,
  `pos` INT NOT NULL,
  `editperms` LONGTEXT,
  PRIMARY KEY (`userid`, `pos`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
"#;

/// The documentation's approve-hat, the four default types (`user` as the seed sets it,
/// the others extended from EPrints' defaults) and an owner's `+` entry.
const USER_ROLES_PL: &str = r#"# cfg.d/user_roles.pl
$c->{roles}->{"approve-hat"} = [
       "eprint/buffer/view:editor",
       "eprint/buffer/summary:editor",
       "eprint/buffer/details:editor",
       "eprint/buffer/move_archive:editor",
];

$c->{user_roles}->{user} = [
        'general',
        'edit-own-record',
        'saved-searches',
        'set-password',
        'deposit',
        'change-email',
        'approve-hat',
        '+eprint/archive/edit:owner',
],
push @{$c->{user_roles}->{editor}}, 'approve-hat';
push @{$c->{user_roles}->{admin}}, 'approve-hat';
push @{$c->{user_roles}->{minuser}}, '+eprint/archive/edit:owner';
"#;

/// (userid, username, email, type, method, password, given, family).
type EpUser = (
    i64,
    &'static str,
    &'static str,
    &'static str,
    u8,
    &'static str,
    &'static str,
    &'static str,
);

const USERS: &[EpUser] = &[
    (
        1,
        "admin",
        "admin@ep.example.org",
        "admin",
        4,
        "admin-pw-1",
        "Ada",
        "Admin",
    ),
    (
        2,
        "ed",
        "ed@ep.example.org",
        "editor",
        2,
        "editor-pw-2",
        "Ed",
        "Itor",
    ),
    (
        3,
        "old",
        "old@ep.example.org",
        "user",
        1,
        "oldpw12",
        "Old",
        "Des",
    ),
    (
        4,
        "rehashed",
        "re@ep.example.org",
        "user",
        3,
        "rehash-pw-4",
        "Re",
        "Hash",
    ),
    (
        5,
        "wide",
        "wide@ep.example.org",
        "editor",
        2,
        "wide-pw-5",
        "Wi",
        "De",
    ),
    (
        6,
        "half",
        "half@ep.example.org",
        "editor",
        2,
        "half-pw-6",
        "Ha",
        "Lf",
    ),
    (
        7,
        "cafe",
        "cafe@ep.example.org",
        "user",
        2,
        "café-pässword",
        "Café",
        "Crème",
    ),
];

fn mysql_admin_url() -> Option<String> {
    match std::env::var("GATEHOUSE_TEST_MYSQL_URL") {
        Ok(u) => Some(u),
        Err(_) => {
            if std::env::var("GATEHOUSE_REQUIRE_MYSQL").as_deref() == Ok("1") {
                panic!("GATEHOUSE_REQUIRE_MYSQL=1 but GATEHOUSE_TEST_MYSQL_URL is not set");
            }
            println!("skipped: GATEHOUSE_TEST_MYSQL_URL is not set (migrate-from eprints)");
            None
        }
    }
}

fn exec(url: &str, statements: &str) {
    use sqlx::Connection;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = sqlx::MySqlConnection::connect(url).await.unwrap();
        sqlx::raw_sql(statements).execute(&mut c).await.unwrap();
    });
}

/// A fresh MariaDB database, dropped at the end.
struct TestDb {
    admin: String,
    name: String,
    url: String,
}

impl TestDb {
    fn create(admin: String) -> TestDb {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!("gh_ep_{}_{}", std::process::id(), nanos % 1_000_000_000);
        exec(
            &admin,
            &format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"),
        );
        let url = format!("{}/{name}", admin.trim_end_matches('/'));
        TestDb { admin, name, url }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        exec(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {}", self.name),
        );
    }
}

fn stored_passwords() -> Vec<String> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/eprints/make_passwords.pl"
    );
    let mut cmd = std::process::Command::new("perl");
    cmd.arg(script);
    for u in USERS {
        cmd.arg(u.4.to_string()).arg(u.5);
    }
    let out = cmd.output().expect("perl");
    assert!(
        out.status.success(),
        "make_passwords.pl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

fn seed(url: &str) {
    let hashes = stored_passwords();
    let mut s = String::from(DDL);
    for (u, hash) in USERS.iter().zip(&hashes) {
        s += &format!(
            "INSERT INTO `user` (userid, username, password, usertype, email, name_given, \
             name_family, dept, org) VALUES ({}, {}, {}, {}, {}, {}, {}, 'Law', 'Example U');\n",
            u.0,
            q(u.1),
            q(hash),
            q(u.3),
            q(u.2),
            q(u.6),
            q(u.7)
        );
    }
    s +=
        "INSERT INTO user_roles VALUES (2, 0, 'approve-hat'), (2, 1, '-eprint/archive/edit:owner'),
              (3, 0, '+eprint/buffer/view:editor'), (3, 1, 'no-such-role');\n";
    for (user, pos, search) in [
        (2, 0, "0|1||eprint|-|divisions:divisions:ANY:EQ:law ecs|-|"),
        (
            2,
            1,
            "0|0||eprint|-|subjects:subjects:ANY:EQ:QA|type:type:ANY:EQ:thesis|-|",
        ),
        (5, 0, "0|1||eprint|-|title:title:ALL:IN:open access|-|"),
        (6, 0, "0|1||eprint|-|divisions:divisions:ANY:EQ:law|-|"),
        (6, 1, "0|1||eprint|-|abstract:abstract:ALL:IN:climate|-|"),
    ] {
        s += &format!(
            "INSERT INTO user_editperms VALUES ({user}, {pos}, {});\n",
            q(search)
        );
    }
    exec(url, &s);
}

fn migrate(env: &Env, url: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["migrate-from", "eprints", "--source", url, "--json"];
    args.extend_from_slice(extra);
    env.run(&args).ok().json()
}

#[test]
fn eprints_users_roles_scope_and_passwords_move_in() {
    let Some(admin) = mysql_admin_url() else {
        return;
    };
    let db = TestDb::create(admin);
    seed(&db.url);
    let env = Env::new();
    let cfg = env.path().join("cfg.d");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(cfg.join("user_roles.pl"), USER_ROLES_PL).unwrap();
    let cfg = cfg.display().to_string();

    // The plan writes nothing, not even user_roles.yaml.
    let plan = migrate(&env, &db.url, &["--plan", "--config-dir", &cfg]);
    // Seven rows; `wide` is left out (its only scope search cannot be expressed).
    assert_eq!(plan["counts"]["users"]["source"], 7, "{plan}");
    assert_eq!(plan["counts"]["users"]["skipped"], 1, "{plan}");
    assert_eq!(plan["counts"]["users"]["create"], 6, "{plan}");
    assert!(!env.app_data().join("user_roles.yaml").exists());
    assert_eq!(env.users()["total"], 0);
    let skipped = plan["skipped"].to_string();
    assert!(skipped.contains("userid 5 (wide)"), "{skipped}");
    assert!(skipped.contains("every item"), "{skipped}");
    assert!(skipped.contains("climate"), "{skipped}");
    assert!(skipped.contains("no-such-role"), "{skipped}");

    let done = migrate(&env, &db.url, &["--config-dir", &cfg]);
    assert_eq!(done["counts"]["users"]["create"], 6, "{done}");
    let yaml = std::fs::read_to_string(env.app_data().join("user_roles.yaml")).unwrap();
    assert!(yaml.contains("approve-hat"), "{yaml}");
    env.run(&["policy", "validate"]).ok();

    let ed = env
        .run(&["users", "show", "ed@ep.example.org", "--json"])
        .ok()
        .json();
    assert_eq!(ed["type"], "editor", "{ed}");
    assert_eq!(ed["full_name"], "Ed Itor", "{ed}");
    assert_eq!(ed["affiliations"], "Law, Example U", "{ed}");
    assert_eq!(
        ed["roles"],
        serde_json::json!(["approve-hat", "-eprint/archive/edit:owner"]),
        "{ed}"
    );
    assert_eq!(
        ed["editorial_scope"],
        serde_json::json!(["divisions=ecs,law", "subjects=QA", "type=thesis"]),
        "{ed}"
    );
    let half = env
        .run(&["users", "show", "half@ep.example.org", "--json"])
        .ok()
        .json();
    assert_eq!(
        half["editorial_scope"],
        serde_json::json!(["divisions=law"]),
        "{half}"
    );
    // The approve-hat works as the documentation says: an editor in scope may view the buffer.
    env.run(&[
        "check",
        "--user",
        "ed@ep.example.org",
        "eprint/buffer/view",
        "--item",
        r#"{"dataset":"eprint","status":"buffer","fields":{"divisions":["law"]}}"#,
    ])
    .ok();

    // Every stored method verifies as EPrints does; a wrong password does not.
    for u in USERS.iter().filter(|u| u.0 != 5) {
        env.run_stdin(
            &["users", "check-login", u.2, "--password-stdin"],
            Some(u.5),
        )
        .ok();
        env.run_stdin(
            &["users", "check-login", u.2, "--password-stdin"],
            Some("not-the-password"),
        )
        .code(3);
    }
    let server = Server::start(&env);
    server.login("old@ep.example.org", "oldpw12");
    server.stop();
    let history = env
        .run(&["history", "--user", "old@ep.example.org", "--json"])
        .ok()
        .stdout
        .clone();
    assert!(history.contains("user.password_rehashed"), "{history}");
    assert!(history.contains("eprints-des"), "{history}");

    // Again (user_roles.yaml exists now: --config-dir is refused, and not needed).
    env.run(&[
        "migrate-from",
        "eprints",
        "--source",
        &db.url,
        "--config-dir",
        &cfg,
    ])
    .code(2)
    .err_contains("exists already");
    let again = migrate(&env, &db.url, &[]);
    assert_eq!(again["counts"]["users"]["existing"], 6, "{again}");
    assert_eq!(again["counts"]["users"]["create"], 0, "{again}");
}

#[test]
fn a_database_without_eprints_tables_is_named() {
    let Some(admin) = mysql_admin_url() else {
        return;
    };
    let db = TestDb::create(admin);
    let env = Env::new();
    env.run(&["migrate-from", "eprints", "--source", &db.url])
        .code(2)
        .err_contains("has no table `user`");
}
