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
use crate::model::{Entry, RoleEntry};
use gatehouse_yaml as yaml;

mod reader;
use reader::Reader;

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

/// A dataset as a form offers it: its statuses (what an item's `status` may be) and whether
/// its items are checked against editorial scope ([`DatasetRules::list`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatasetInfo {
    /// The dataset, e.g. `eprint`.
    pub name: String,
    /// Its statuses in the configured order, e.g. inbox, buffer, archive, deletion; empty for
    /// a dataset that only has scope rules.
    pub statuses: Vec<String>,
    /// Whether its items are checked against editorial scope.
    pub scoped: bool,
}

impl DatasetRules {
    /// Every dataset with statuses or scope rules, by name. Items of any other dataset
    /// (`user`, `saved_search`, ...) have no status and are always in scope.
    pub fn list(&self) -> Vec<DatasetInfo> {
        let names: BTreeSet<&String> = self.statuses.keys().chain(self.scoped.iter()).collect();
        names
            .into_iter()
            .map(|name| DatasetInfo {
                name: name.clone(),
                statuses: self.statuses.get(name).cloned().unwrap_or_default(),
                scoped: self.scoped.contains(name),
            })
            .collect()
    }

    /// The statuses of `dataset`, if it has any.
    pub fn statuses_of(&self, dataset: &str) -> Option<&[String]> {
        self.statuses.get(dataset).map(Vec::as_slice)
    }

    /// Whether `status` is a status of `dataset`; the error names the value and lists the
    /// statuses to choose from. A check ignores a status its dataset does not have (see
    /// docs/decisions.md); an explanation refuses it, so that it never explains a question
    /// other than the one asked.
    pub fn check_status(&self, dataset: &str, status: &str) -> Result<(), crate::ItemError> {
        let quoted = |list: &mut dyn Iterator<Item = &String>| {
            list.map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self.statuses.get(dataset) {
            Some(list) if list.iter().any(|s| s == status) => Ok(()),
            Some(list) => Err(crate::ItemError(format!(
                "status `{}` is not a status of dataset `{}`; use one of {}",
                crate::ident::shorten(status),
                crate::ident::shorten(dataset),
                quoted(&mut list.iter())
            ))),
            None => Err(crate::ItemError(format!(
                "dataset `{}` has no statuses, so status `{}` would be ignored; leave the status out{}",
                crate::ident::shorten(dataset),
                crate::ident::shorten(status),
                if self.statuses.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (datasets with statuses: {})",
                        quoted(&mut self.statuses.keys())
                    )
                }
            ))),
        }
    }

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
///
/// Built from a catalog ([`PolicyConfig::builtin`], the EPrints 3.4.7 defaults, or any
/// catalog through [`PolicyConfig::from_catalog`] or [`PolicyConfig::empty`] and the
/// `insert_*` methods), overlaid by a site file ([`PolicyConfig::with_file`],
/// [`PolicyConfig::overlay`]). Whatever way it was built, [`PolicyConfig::validate`] holds
/// it to the same rules, and compiling refuses a configuration that breaks them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyConfig {
    roles: BTreeMap<RoleName, RoleDef>,
    types: BTreeMap<TypeName, TypeDef>,
    public: Vec<PublicDef>,
    datasets: DatasetRules,
    file: Option<String>,
}

/// What a catalog or site file may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A whole catalog (the built-in one, or a site's own): may also set the hard-coded
    /// public privileges and the datasets.
    Catalog,
    /// A site file over a catalog (`user_roles.yaml`).
    SiteFile,
}

impl PolicyConfig {
    /// The built-in EPrints 3.4.7 catalog, parsed once.
    pub fn builtin() -> &'static PolicyConfig {
        static BUILTIN: OnceLock<PolicyConfig> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            let mut cfg = PolicyConfig::empty();
            let issues = cfg.apply(CATALOG, CATALOG_NAME, Kind::Catalog, true);
            // INVARIANT: the catalog is compiled into the crate and the test
            // `builtin_catalog_is_valid` proves it parses without a single issue.
            #[allow(clippy::panic)]
            if !issues.is_empty() {
                panic!("built-in catalog is invalid: {issues:?}");
            }
            cfg
        })
    }

    /// A configuration with no roles, no user types and no public privileges, and the
    /// default dataset rules (`eprint` with its four statuses, scoped). Fill it with
    /// [`insert_role`](Self::insert_role) and the other `insert_*` methods, or use
    /// [`from_catalog`](Self::from_catalog).
    pub fn empty() -> PolicyConfig {
        PolicyConfig {
            roles: BTreeMap::new(),
            types: BTreeMap::new(),
            public: Vec::new(),
            datasets: DatasetRules::default(),
            file: None,
        }
    }

    /// A whole catalog read from `text` (named `name` in messages), without any of the
    /// built-in roles, types or public privileges: how an installation on another EPrints
    /// version brings its own `user_roles.pl` (converted by `gatehouse policy convert`).
    ///
    /// A catalog has the keys of a site file (`roles`, `user_roles`, `public_roles`) and may
    /// add `public_privileges` (the hard-coded public list, EPrints' `$PUBLIC_PRIVS`) and
    /// `datasets` (`eprint: {statuses: [inbox, buffer, archive, deletion], scoped: true}`).
    ///
    /// ```
    /// use gatehouse_policy::PolicyConfig;
    /// let cfg = PolicyConfig::from_catalog(
    ///     "roles:\n  deposit: [eprint/inbox/edit:owner]\nuser_roles:\n  user: [deposit]\n",
    ///     "eprints-3.3.yaml",
    /// ).expect("valid");
    /// assert_eq!(cfg.roles().len(), 1);
    /// assert!(PolicyConfig::from_catalog("user_roles:\n  user: [nosuch]\n", "c.yaml").is_err());
    /// ```
    pub fn from_catalog(text: &str, name: &str) -> Result<PolicyConfig, PolicyErrors> {
        let mut cfg = PolicyConfig::empty();
        let issues = cfg.apply(text, name, Kind::Catalog, false);
        if issues.is_empty() {
            Ok(cfg)
        } else {
            Err(PolicyErrors(issues))
        }
    }

    /// The built-in catalog overlaid by the policy file `text`, named `file` in messages.
    pub fn with_file(text: &str, file: &str) -> Result<PolicyConfig, PolicyErrors> {
        PolicyConfig::builtin().overlay(text, file)
    }

    /// This configuration overlaid by the site file `text` (`user_roles.yaml`): a role or
    /// type in the file replaces the one of the same name whole, the file's `public_roles`
    /// replaces the catalog's. Every problem is reported, with file, line and a hint.
    pub fn overlay(&self, text: &str, file: &str) -> Result<PolicyConfig, PolicyErrors> {
        let mut cfg = self.clone();
        let issues = cfg.apply(text, file, Kind::SiteFile, false);
        if issues.is_empty() {
            cfg.file = Some(file.to_owned());
            Ok(cfg)
        } else {
            Err(PolicyErrors(issues))
        }
    }

    /// Adds or replaces a role; returns the one it replaced.
    pub fn insert_role(&mut self, role: RoleDef) -> Option<RoleDef> {
        self.roles.insert(role.name.clone(), role)
    }

    /// Adds or replaces a user type; returns the one it replaced. Its role entries must name
    /// roles of this configuration ([`validate`](Self::validate)).
    pub fn insert_type(&mut self, ty: TypeDef) -> Option<TypeDef> {
        self.types.insert(ty.name.clone(), ty)
    }

    /// Adds a public privilege (a hard-coded one, or a `public_roles` entry).
    pub fn insert_public(&mut self, public: PublicDef) {
        self.public.push(public);
    }

    /// Replaces the `public_roles` entries (the hard-coded public privileges stay).
    pub fn set_public_roles(&mut self, entries: Vec<PublicDef>) {
        self.public.retain(|p| !p.from_public_roles);
        self.public.extend(entries.into_iter().map(|p| PublicDef {
            from_public_roles: true,
            ..p
        }));
    }

    /// Replaces the dataset rules.
    pub fn set_datasets(&mut self, datasets: DatasetRules) {
        self.datasets = datasets;
    }

    /// Every role by name.
    pub fn roles(&self) -> &BTreeMap<RoleName, RoleDef> {
        &self.roles
    }

    /// Every user type by name.
    pub fn types(&self) -> &BTreeMap<TypeName, TypeDef> {
        &self.types
    }

    /// The public privileges: the hard-coded list and the `public_roles` entries.
    pub fn public(&self) -> &[PublicDef] {
        &self.public
    }

    /// Dataset statuses and scope rules.
    pub fn datasets(&self) -> &DatasetRules {
        &self.datasets
    }

    /// The site file overlaid on the catalog, if any.
    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }

    /// Checks the rules every configuration keeps, however it was built: each role a user
    /// type names is a role (not undefined, not a user type), and dataset rules are usable.
    pub fn validate(&self) -> Result<(), PolicyErrors> {
        self.validate_with(&[])
    }

    /// [`validate`](Self::validate), counting `more_roles` (run-time roles) as defined too.
    pub fn validate_with(&self, more_roles: &[RoleName]) -> Result<(), PolicyErrors> {
        let mut issues = Vec::new();
        for ty in self.types.values() {
            for e in &ty.entries {
                if let Entry::Role(r) = e {
                    if more_roles.contains(r) {
                        continue;
                    }
                    if let Some(problem) = self.role_problem(r.as_str()) {
                        let (file, line) = origin_place(&ty.origin);
                        issues.push(PolicyIssue {
                            file,
                            line,
                            name: r.to_string(),
                            message: format!("in user type `{}`: {problem}", ty.name),
                        });
                    }
                }
            }
        }
        for (ds, statuses) in &self.datasets.statuses {
            for st in statuses {
                if !segment_ok(st) || !segment_ok(ds) {
                    issues.push(PolicyIssue {
                        file: String::new(),
                        line: 0,
                        name: format!("{ds}/{st}"),
                        message: format!(
                            "dataset `{ds}` status `{st}`: use one word without `/` each"
                        ),
                    });
                }
            }
        }
        if issues.is_empty() {
            Ok(())
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
             create it as a run-time role, or check the spelling"
        ))
    }

    /// Reads `text` and applies it on top of `self`; returns the problems found.
    fn apply(&mut self, text: &str, file: &str, kind: Kind, builtin: bool) -> Vec<PolicyIssue> {
        let mut reader = Reader {
            file,
            path: Arc::from(file),
            builtin,
            issues: Vec::new(),
        };
        let doc = match yaml::parse(text) {
            Ok(Some(doc)) => doc,
            Ok(None) => return Vec::new(),
            Err(e) => {
                reader.issue(e.line, "", format!("not valid YAML: {}", e.message));
                return reader.issues;
            }
        };
        let Some(top) = doc.as_map() else {
            reader.issue(
                doc.line,
                "",
                format!(
                    "the file must be a mapping with `roles`, `user_roles` and `public_roles`, \
                     not {}",
                    doc.describe()
                ),
            );
            return reader.issues;
        };
        let parsed = reader.sections(top, kind);

        // Apply: file roles and types replace those of the same name, whole.
        for role in parsed.roles {
            self.roles.insert(role.name.clone(), role);
        }
        let mut refs = Vec::new();
        for (ty, role_refs) in parsed.types {
            refs.push((ty.name.clone(), role_refs));
            self.types.insert(ty.name.clone(), ty);
        }
        if let Some(list) = parsed.public_roles {
            self.public.retain(|p| !p.from_public_roles);
            self.public.extend(list);
        }
        self.public.extend(parsed.public_privileges);
        if let Some(datasets) = parsed.datasets {
            self.datasets = datasets;
        }

        // Cross checks: every role a type of this file names must be a role (not a type).
        for (ty, role_refs) in refs {
            for (line, name) in role_refs {
                if let Some(problem) = self.role_problem(&name) {
                    reader.issue(line, &name, format!("in user type `{ty}`: {problem}"));
                }
            }
        }
        reader.issues
    }
}

fn segment_ok(s: &str) -> bool {
    !s.is_empty() && !s.contains('/') && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn origin_place(origin: &Origin) -> (String, u32) {
    match origin {
        Origin::BuiltIn { line } => (CATALOG_NAME.to_owned(), *line),
        Origin::File { path, line } => (path.to_string(), *line),
        Origin::Runtime => ("(run time)".to_owned(), 0),
    }
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
        let mut cfg = PolicyConfig::empty();
        assert_eq!(
            cfg.apply(CATALOG, CATALOG_NAME, Kind::Catalog, true),
            Vec::new()
        );
        assert_eq!(cfg.validate(), Ok(()));
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
            "user_roles.yaml:8: unknown key `colour`: the file takes `roles`, `user_roles` and `public_roles`",
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
