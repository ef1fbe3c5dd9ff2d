//! The policy configuration: roles, user types and public privileges, from the built-in
//! EPrints 3.4.7 catalog overlaid by `app_data/user_roles.yaml` (EPrints `user_roles.pl`).
//!
//! A role or type defined in the file replaces the built-in one of the same name, whole; the
//! file's `public_roles` replaces the built-in `public_roles`. Every problem in a file is
//! collected, not just the first, and each names the file, the line and the offending name.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::Serialize;

use crate::ident::{Privilege, RoleName, TypeName};
use crate::model::{Entry, EntryError, RoleEntry};
use crate::yaml::{self, Node};

/// The file name shown for the built-in catalog.
pub const CATALOG_NAME: &str = "eprints-3.4.7.yaml";
const CATALOG: &str = include_str!("../catalog/eprints-3.4.7.yaml");

/// The marker role that empties an empty editorial scope (EPrints 3.4.1).
pub const EDITPERMS_NONE_BY_DEFAULT: &str = "editperms_none_by_default";
/// The privilege that holds every privilege (InvenioRDM).
pub const SUPERUSER_ACCESS: &str = "superuser-access";

/// Where a role, type or entry was defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// The built-in EPrints catalog.
    BuiltIn {
        /// Line in the catalog file.
        line: u32,
    },
    /// The policy file.
    File {
        /// The file as named when loaded.
        path: Arc<str>,
        /// Line in it.
        line: u32,
    },
    /// Created at run time (`roles create`, API), stored in the database.
    Runtime,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::BuiltIn { line } => write!(f, "built in ({CATALOG_NAME} line {line})"),
            Origin::File { path, line } => write!(f, "{path} line {line}"),
            Origin::Runtime => f.write_str("created at run time"),
        }
    }
}

/// A role: a named, ordered list of privilege entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDef {
    /// The role's name.
    pub name: RoleName,
    /// Its entries, in order.
    pub entries: Vec<RoleEntry>,
    /// Where it was defined.
    pub origin: Origin,
    /// A description (run-time roles).
    pub description: Option<String>,
}

/// A user type: a named, ordered list of entries (role names, `+p`, `-p`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDef {
    /// The type's name.
    pub name: TypeName,
    /// Its entries, in order.
    pub entries: Vec<Entry>,
    /// Where it was defined.
    pub origin: Origin,
}

/// A public privilege and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicDef {
    /// The privilege everybody holds.
    pub privilege: Privilege,
    /// Built-in list or `public_roles`.
    pub origin: Origin,
    /// True for a `public_roles` entry, false for the hard-coded public list.
    pub from_public_roles: bool,
}

/// Which datasets have statuses (EPrints virtual datasets) and editorial scope rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetRules {
    /// dataset -> its statuses, e.g. `eprint` -> inbox, buffer, archive, deletion.
    pub statuses: BTreeMap<String, Vec<String>>,
    /// Datasets whose items are checked against editorial scope; items of other datasets are
    /// always in scope.
    pub scoped: BTreeSet<String>,
}

impl Default for DatasetRules {
    fn default() -> Self {
        let statuses = ["inbox", "buffer", "archive", "deletion"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        DatasetRules {
            statuses: BTreeMap::from([("eprint".to_owned(), statuses)]),
            scoped: BTreeSet::from(["eprint".to_owned()]),
        }
    }
}

impl DatasetRules {
    /// If `privilege` is `<dataset>/<status>/...` for a dataset with statuses, the dataset.
    pub fn names_status<'a>(&self, privilege: &'a str) -> Option<&'a str> {
        let (ds, rest) = privilege.split_once('/')?;
        let (status, _) = rest.split_once('/')?;
        self.statuses
            .get(ds)
            .filter(|list| list.iter().any(|s| s == status))
            .map(|_| ds)
    }
}

/// One problem found in a policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyIssue {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// The offending name or entry.
    pub name: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for PolicyIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// Every problem found in a policy file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyErrors(pub Vec<PolicyIssue>);

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "{n} problem{} in the policy file",
            if n == 1 { "" } else { "s" }
        )?;
        for issue in &self.0 {
            write!(f, "\n  {issue}")?;
        }
        Ok(())
    }
}

/// Roles, user types and public privileges, with where each came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyConfig {
    /// Every role by name.
    pub roles: BTreeMap<RoleName, RoleDef>,
    /// Every user type by name.
    pub types: BTreeMap<TypeName, TypeDef>,
    /// The public privileges: the hard-coded list and the `public_roles` `+p` entries.
    pub public: Vec<PublicDef>,
    /// Dataset statuses and scope rules.
    pub datasets: DatasetRules,
    /// The policy file overlaid on the catalog, if any.
    pub file: Option<String>,
}

impl PolicyConfig {
    /// The built-in EPrints 3.4.7 catalog, parsed once.
    pub fn builtin() -> &'static PolicyConfig {
        static BUILTIN: OnceLock<PolicyConfig> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            let mut cfg = PolicyConfig {
                roles: BTreeMap::new(),
                types: BTreeMap::new(),
                public: Vec::new(),
                datasets: DatasetRules::default(),
                file: None,
            };
            let issues = cfg.overlay(CATALOG, CATALOG_NAME, true);
            // INVARIANT: the catalog is compiled into the crate and the test
            // `builtin_catalog_is_valid` proves it parses without a single issue.
            #[allow(clippy::panic)]
            if !issues.is_empty() {
                panic!("built-in catalog is invalid: {issues:?}");
            }
            cfg
        })
    }

    /// The built-in catalog overlaid by the policy file `text`, named `file` in messages.
    pub fn with_file(text: &str, file: &str) -> Result<PolicyConfig, PolicyErrors> {
        let mut cfg = PolicyConfig::builtin().clone();
        let issues = cfg.overlay(text, file, false);
        if issues.is_empty() {
            cfg.file = Some(file.to_owned());
            Ok(cfg)
        } else {
            Err(PolicyErrors(issues))
        }
    }

    /// What is wrong with naming `name` as a role, if anything: undefined, or defined as a
    /// user type (the seed's "Ensure the role is in {roles} not {user_roles}!").
    pub fn role_problem(&self, name: &str) -> Option<String> {
        if RoleName::new(name)
            .ok()
            .is_some_and(|r| self.roles.contains_key(&r))
        {
            return None;
        }
        if TypeName::new(name)
            .ok()
            .is_some_and(|t| self.types.contains_key(&t))
        {
            return Some(format!(
                "`{name}` is defined under `user_roles` (a user type), not under `roles`; \
                 ensure the role is in `roles` not `user_roles`"
            ));
        }
        Some(format!(
            "role `{name}` is not defined; define it under `roles:` in user_roles.yaml, \
             create it with `gatehouse roles create {name}`, or check the spelling"
        ))
    }

    /// Reads `text` and applies it on top of `self`; returns the problems found.
    fn overlay(&mut self, text: &str, file: &str, builtin: bool) -> Vec<PolicyIssue> {
        let mut issues = Vec::new();
        let path: Arc<str> = Arc::from(file);
        let origin = |line| {
            if builtin {
                Origin::BuiltIn { line }
            } else {
                Origin::File {
                    path: path.clone(),
                    line,
                }
            }
        };
        let mut issue = |line: u32, name: &str, message: String| {
            issues.push(PolicyIssue {
                file: file.to_owned(),
                line,
                name: name.to_owned(),
                message,
            });
        };
        let doc = match yaml::parse(text) {
            Ok(Some(doc)) => doc,
            Ok(None) => return Vec::new(),
            Err(e) => {
                issue(e.line, "", format!("not valid YAML: {}", e.message));
                return issues;
            }
        };
        let Some(top) = doc.as_map() else {
            issue(
                doc.line,
                "",
                format!(
                    "the file must be a mapping with `roles`, `user_roles` and `public_roles`, \
                     not {}",
                    doc.describe()
                ),
            );
            return issues;
        };

        let mut file_roles: Vec<RoleDef> = Vec::new();
        let mut file_types: Vec<(TypeDef, Vec<(u32, String)>)> = Vec::new();
        let mut public_roles: Option<Vec<PublicDef>> = None;
        let mut public_privs: Vec<PublicDef> = Vec::new();
        let mut seen_keys = BTreeSet::new();

        for (key, value) in top {
            let Some(k) = key.as_str() else {
                issue(key.line, "", "top-level keys must be names".into());
                continue;
            };
            if !seen_keys.insert(k.to_owned()) {
                issue(
                    key.line,
                    k,
                    format!("`{k}` appears twice; merge the two into one"),
                );
                continue;
            }
            match k {
                "roles" => {
                    for (name_node, list) in mapping(value, k, &mut issue) {
                        let Some(name) = name_node.as_str() else {
                            continue;
                        };
                        let Ok(role) = RoleName::new(name) else {
                            issue(
                                name_node.line,
                                name,
                                format!(
                                    "invalid role name `{name}`: use 1 to 80 letters, digits, \
                                     `_` or `-`, starting with a letter"
                                ),
                            );
                            continue;
                        };
                        if file_roles.iter().any(|r| r.name == role) {
                            issue(
                                name_node.line,
                                name,
                                format!("role `{name}` is defined twice in `roles`; keep one"),
                            );
                            continue;
                        }
                        let mut entries = Vec::new();
                        for item in strings(list, &format!("role `{name}`"), &mut issue) {
                            match item.1.parse::<RoleEntry>() {
                                Ok(e) => entries.push(e),
                                Err(e) => issue(item.0, &item.1, format!("in role `{name}`: {e}")),
                            }
                        }
                        file_roles.push(RoleDef {
                            name: role,
                            entries,
                            origin: origin(name_node.line),
                            description: None,
                        });
                    }
                }
                "user_roles" => {
                    for (name_node, list) in mapping(value, k, &mut issue) {
                        let Some(name) = name_node.as_str() else {
                            continue;
                        };
                        let Ok(ty) = TypeName::new(name) else {
                            issue(
                                name_node.line,
                                name,
                                format!(
                                    "invalid user type `{name}`: use 1 to 80 letters, digits, \
                                     `_` or `-`, starting with a letter"
                                ),
                            );
                            continue;
                        };
                        if file_types.iter().any(|(t, _)| t.name == ty) {
                            issue(
                                name_node.line,
                                name,
                                format!("user type `{name}` is defined twice; keep one"),
                            );
                            continue;
                        }
                        let mut entries = Vec::new();
                        let mut role_refs = Vec::new();
                        for (line, text) in
                            strings(list, &format!("user type `{name}`"), &mut issue)
                        {
                            match text.parse::<Entry>() {
                                Ok(e) => {
                                    if let Entry::Role(r) = &e {
                                        role_refs.push((line, r.to_string()));
                                    }
                                    entries.push(e);
                                }
                                Err(e @ EntryError::BarePrivilege(_)) => {
                                    issue(line, &text, format!("in user type `{name}`: {e}"))
                                }
                                Err(e) => issue(line, &text, format!("in user type `{name}`: {e}")),
                            }
                        }
                        file_types.push((
                            TypeDef {
                                name: ty,
                                entries,
                                origin: origin(name_node.line),
                            },
                            role_refs,
                        ));
                    }
                }
                "public_roles" => {
                    let mut list = Vec::new();
                    for (line, text) in strings(value, "public_roles", &mut issue) {
                        match text.strip_prefix('+').map(Privilege::new) {
                            Some(Ok(p)) => list.push(PublicDef {
                                privilege: p,
                                origin: origin(line),
                                from_public_roles: true,
                            }),
                            Some(Err(e)) => issue(line, &text, format!("in public_roles: {e}")),
                            None if text.starts_with('-') => issue(
                                line,
                                &text,
                                format!(
                                    "public_roles takes only `+privilege` entries; `{text}` \
                                     cannot remove a public privilege (deny it to `any_user` \
                                     with `gatehouse access deny {} system-role any_user`)",
                                    &text[1..]
                                ),
                            ),
                            None => issue(
                                line,
                                &text,
                                format!(
                                    "public_roles takes only `+privilege` entries (EPrints \
                                     ignores anything else): did you mean `+{text}`?"
                                ),
                            ),
                        }
                    }
                    public_roles = Some(list);
                }
                "public_privileges" if builtin => {
                    for (line, text) in strings(value, "public_privileges", &mut issue) {
                        match Privilege::new(&text) {
                            Ok(p) => public_privs.push(PublicDef {
                                privilege: p,
                                origin: origin(line),
                                from_public_roles: false,
                            }),
                            Err(e) => issue(line, &text, e.to_string()),
                        }
                    }
                }
                other => issue(
                    key.line,
                    other,
                    format!(
                        "unknown key `{other}`: the file takes `roles`, `user_roles` and \
                         `public_roles`"
                    ),
                ),
            }
        }

        // Apply: file roles and types replace built-in ones of the same name, whole.
        for role in file_roles {
            self.roles.insert(role.name.clone(), role);
        }
        let mut refs = Vec::new();
        for (ty, role_refs) in file_types {
            refs.push((ty.name.clone(), role_refs));
            self.types.insert(ty.name.clone(), ty);
        }
        if let Some(list) = public_roles {
            self.public.retain(|p| !p.from_public_roles);
            self.public.extend(list);
        }
        self.public.extend(public_privs);

        // Cross checks: every role a type names must be a role (not a user type).
        for (ty, role_refs) in refs {
            for (line, name) in role_refs {
                if let Some(problem) = self.role_problem(&name) {
                    issue(line, &name, format!("in user type `{ty}`: {problem}"));
                }
            }
        }
        issues
    }

    /// Types whose entries name roles that do not exist (after run-time roles are known).
    pub fn type_named(&self, name: &TypeName) -> Option<&TypeDef> {
        self.types.get(name)
    }
}

/// The pairs of a mapping section (null counts as empty).
fn mapping<'a>(
    value: &'a Node,
    what: &str,
    issue: &mut impl FnMut(u32, &str, String),
) -> &'a [(Node, Node)] {
    if value.is_null() {
        return &[];
    }
    match value.as_map() {
        Some(pairs) => pairs,
        None => {
            issue(
                value.line,
                what,
                format!(
                    "`{what}` must be a mapping of names to lists, not {}",
                    value.describe()
                ),
            );
            &[]
        }
    }
}

/// The scalar items of a list (null counts as empty), with their lines.
fn strings(
    value: &Node,
    what: &str,
    issue: &mut impl FnMut(u32, &str, String),
) -> Vec<(u32, String)> {
    if value.is_null() {
        return Vec::new();
    }
    let Some(items) = value.as_seq() else {
        issue(
            value.line,
            what,
            format!("{what} must be a list of strings, not {}", value.describe()),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        match item.as_str() {
            Some(s) => out.push((item.line, s.to_owned())),
            None => issue(
                item.line,
                what,
                format!(
                    "{what}: each entry must be a single string, not {}",
                    item.describe()
                ),
            ),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        match PolicyConfig::with_file(text, "user_roles.yaml") {
            Ok(_) => Vec::new(),
            Err(e) => e.0.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn builtin_catalog_is_valid() {
        let mut cfg = PolicyConfig {
            roles: BTreeMap::new(),
            types: BTreeMap::new(),
            public: Vec::new(),
            datasets: DatasetRules::default(),
            file: None,
        };
        assert_eq!(cfg.overlay(CATALOG, CATALOG_NAME, true), Vec::new());
        let b = PolicyConfig::builtin();
        assert_eq!(b.types.len(), 4);
        assert!(b.roles.len() >= 16, "{}", b.roles.len());
        assert_eq!(b.public.iter().filter(|p| !p.from_public_roles).count(), 7);
        assert_eq!(b.public.iter().filter(|p| p.from_public_roles).count(), 2);
    }

    #[test]
    fn the_seed_file_is_valid_and_replaces() {
        let text = "roles:\n  approve-hat:\n    - eprint/buffer/view:editor\n    - eprint/buffer/summary:editor\n    - eprint/buffer/details:editor\n    - eprint/buffer/move_archive:editor\n  general: [user/view:owner]\nuser_roles:\n  user: [general, edit-own-record, saved-searches, set-password, deposit, change-email, approve-hat, +eprint/archive/edit:owner]\npublic_roles: [+eprint/archive/rest/get]\n";
        let cfg = match PolicyConfig::with_file(text, "user_roles.yaml") {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let general = cfg
            .roles
            .get(&RoleName::new("general").unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(
            general.map(|r| r.entries.len()),
            Some(1),
            "file role replaces, no merge"
        );
        assert!(matches!(
            general.map(|r| &r.origin),
            Some(Origin::File { line: 7, .. })
        ));
        assert_eq!(cfg.public.iter().filter(|p| p.from_public_roles).count(), 1);
    }

    #[test]
    fn every_validation_error_is_reported_with_line_and_hint() {
        let text = "roles:\n  bad name: [x]\n  ok: [+]\nuser_roles:\n  user: [general, eprint/view, nosuchrole, approve-hat]\n  approve-hat: [+eprint/buffer/view:editor]\npublic_roles: [eprint/archive/rest/get, -subject/view]\ncolour: blue\n";
        let got = problems(text);
        let expect = [
            "user_roles.yaml:2: invalid role name `bad name`",
            "user_roles.yaml:3: in role `ok`: invalid privilege ``",
            "user_roles.yaml:5: in user type `user`: `eprint/view` looks like a privilege, but a bare entry names a role: did you mean `+eprint/view`?",
            "user_roles.yaml:5: in user type `user`: role `nosuchrole` is not defined",
            "user_roles.yaml:5: in user type `user`: `approve-hat` is defined under `user_roles` (a user type), not under `roles`; ensure the role is in `roles` not `user_roles`",
            "user_roles.yaml:7: public_roles takes only `+privilege` entries (EPrints ignores anything else): did you mean `+eprint/archive/rest/get`?",
            "user_roles.yaml:7: public_roles takes only `+privilege` entries; `-subject/view` cannot remove",
            "user_roles.yaml:8: unknown key `colour`",
        ];
        for e in expect {
            assert!(
                got.iter().any(|g| g.starts_with(e)),
                "missing {e:?} in {got:#?}"
            );
        }
        assert_eq!(got.len(), expect.len(), "{got:#?}");
    }

    #[test]
    fn shape_errors() {
        assert!(problems("- a\n- b\n")[0].contains("must be a mapping"));
        assert!(problems("roles: [a]\n")[0].contains("`roles` must be a mapping"));
        assert!(problems("roles:\n  a: {b: c}\n")[0].contains("must be a list of strings"));
        assert!(problems("roles: [\n")[0].contains("not valid YAML"));
        assert!(problems("").is_empty());
        assert!(problems("roles:\nuser_roles:\n").is_empty());
    }

    #[test]
    fn names_status() {
        let d = DatasetRules::default();
        assert_eq!(d.names_status("eprint/buffer/view"), Some("eprint"));
        assert_eq!(d.names_status("eprint/view"), None);
        assert_eq!(d.names_status("eprint/buffer"), None);
        assert_eq!(d.names_status("user/buffer/view"), None);
    }
}
