//! Reading one catalog or site file into its sections (roles, user types, public
//! privileges, datasets), collecting every problem with its line, name and a hint.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use gatehouse_yaml::Node;

use super::{segment_ok, DatasetRules, Kind, Origin, PolicyIssue, PublicDef, RoleDef, TypeDef};
use crate::ident::{Privilege, RoleName, TypeName};
use crate::model::{Entry, RoleEntry};

/// What one file holds, read but not yet applied.
#[derive(Default)]
pub(super) struct Sections {
    pub(super) roles: Vec<RoleDef>,
    pub(super) types: Vec<(TypeDef, Vec<(u32, String)>)>,
    pub(super) public_roles: Option<Vec<PublicDef>>,
    pub(super) public_privileges: Vec<PublicDef>,
    pub(super) datasets: Option<DatasetRules>,
}

/// Reads the sections of one file, collecting every problem.
pub(super) struct Reader<'f> {
    pub(super) file: &'f str,
    pub(super) path: Arc<str>,
    pub(super) builtin: bool,
    pub(super) issues: Vec<PolicyIssue>,
}

impl Reader<'_> {
    pub(super) fn issue(&mut self, line: u32, name: &str, message: String) {
        self.issues.push(PolicyIssue {
            file: self.file.to_owned(),
            line,
            name: crate::ident::shorten(name).into_owned(),
            message,
        });
    }

    pub(super) fn origin(&self, line: u32) -> Origin {
        if self.builtin {
            Origin::BuiltIn { line }
        } else {
            Origin::File {
                path: self.path.clone(),
                line,
            }
        }
    }

    pub(super) fn sections(&mut self, top: &[(Node, Node)], kind: Kind) -> Sections {
        let mut out = Sections::default();
        let mut seen_keys = BTreeSet::new();
        for (key, value) in top {
            let Some(k) = key.as_str() else {
                self.issue(key.line, "", "top-level keys must be names".into());
                continue;
            };
            if !seen_keys.insert(k.to_owned()) {
                self.issue(
                    key.line,
                    k,
                    format!("`{k}` appears twice; merge the two into one"),
                );
                continue;
            }
            match (k, kind) {
                ("roles", _) => out.roles = self.roles(value),
                ("user_roles", _) => out.types = self.types(value),
                ("public_roles", _) => out.public_roles = Some(self.public_roles(value)),
                ("public_privileges", Kind::Catalog) => {
                    out.public_privileges = self.public_privileges(value)
                }
                ("datasets", Kind::Catalog) => out.datasets = self.datasets(value),
                (other, _) => {
                    let keys = match kind {
                        Kind::SiteFile => "`roles`, `user_roles` and `public_roles`",
                        Kind::Catalog => {
                            "`roles`, `user_roles`, `public_roles`, `public_privileges` and \
                             `datasets`"
                        }
                    };
                    self.issue(
                        key.line,
                        other,
                        format!("unknown key `{other}`: the file takes {keys}"),
                    )
                }
            }
        }
        out
    }

    pub(super) fn roles(&mut self, value: &Node) -> Vec<RoleDef> {
        let mut out: Vec<RoleDef> = Vec::new();
        for (name_node, list) in mapping(value, "roles", &mut |l, n, m| self.issue(l, n, m)) {
            let Some(name) = name_node.as_str() else {
                continue;
            };
            let Ok(role) = RoleName::new(name) else {
                self.issue(
                    name_node.line,
                    name,
                    format!(
                        "invalid role name `{}`: use 1 to 80 letters, digits, `_` or `-`, \
                         starting with a letter",
                        crate::ident::shorten(name)
                    ),
                );
                continue;
            };
            if out.iter().any(|r| r.name == role) {
                self.issue(
                    name_node.line,
                    name,
                    format!("role `{name}` is defined twice in `roles`; keep one"),
                );
                continue;
            }
            let mut entries = Vec::new();
            let what = format!("role `{name}`");
            for (line, text) in strings(list, &what, &mut |l, n, m| self.issue(l, n, m)) {
                match text.parse::<RoleEntry>() {
                    Ok(e) => entries.push(e),
                    Err(e) => self.issue(line, &text, format!("in role `{name}`: {e}")),
                }
            }
            out.push(RoleDef {
                name: role,
                entries,
                origin: self.origin(name_node.line),
                description: None,
            });
        }
        out
    }

    pub(super) fn types(&mut self, value: &Node) -> Vec<(TypeDef, Vec<(u32, String)>)> {
        let mut out: Vec<(TypeDef, Vec<(u32, String)>)> = Vec::new();
        for (name_node, list) in mapping(value, "user_roles", &mut |l, n, m| self.issue(l, n, m)) {
            let Some(name) = name_node.as_str() else {
                continue;
            };
            let Ok(ty) = TypeName::new(name) else {
                self.issue(
                    name_node.line,
                    name,
                    format!(
                        "invalid user type `{}`: use 1 to 80 letters, digits, `_` or `-`, \
                         starting with a letter",
                        crate::ident::shorten(name)
                    ),
                );
                continue;
            };
            if out.iter().any(|(t, _)| t.name == ty) {
                self.issue(
                    name_node.line,
                    name,
                    format!("user type `{name}` is defined twice; keep one"),
                );
                continue;
            }
            let mut entries = Vec::new();
            let mut role_refs = Vec::new();
            let what = format!("user type `{name}`");
            for (line, text) in strings(list, &what, &mut |l, n, m| self.issue(l, n, m)) {
                match text.parse::<Entry>() {
                    Ok(e) => {
                        if let Entry::Role(r) = &e {
                            role_refs.push((line, r.to_string()));
                        }
                        entries.push(e);
                    }
                    Err(e) => self.issue(line, &text, format!("in user type `{name}`: {e}")),
                }
            }
            out.push((
                TypeDef {
                    name: ty,
                    entries,
                    origin: self.origin(name_node.line),
                },
                role_refs,
            ));
        }
        out
    }

    pub(super) fn public_roles(&mut self, value: &Node) -> Vec<PublicDef> {
        let mut list = Vec::new();
        for (line, text) in strings(value, "public_roles", &mut |l, n, m| self.issue(l, n, m)) {
            match text.strip_prefix('+').map(Privilege::new) {
                Some(Ok(p)) => list.push(PublicDef {
                    privilege: p,
                    origin: self.origin(line),
                    from_public_roles: true,
                }),
                Some(Err(e)) => self.issue(line, &text, format!("in public_roles: {e}")),
                None if text.starts_with('-') => self.issue(
                    line,
                    &text,
                    format!(
                        "public_roles takes only `+privilege` entries; `{}` cannot remove a \
                         public privilege (deny `{}` to the system role `any_user` instead)",
                        crate::ident::shorten(&text),
                        crate::ident::shorten(&text[1..])
                    ),
                ),
                None => self.issue(
                    line,
                    &text,
                    format!(
                        "public_roles takes only `+privilege` entries (EPrints ignores anything \
                         else): did you mean `+{}`?",
                        crate::ident::shorten(&text)
                    ),
                ),
            }
        }
        list
    }

    pub(super) fn public_privileges(&mut self, value: &Node) -> Vec<PublicDef> {
        let mut out = Vec::new();
        for (line, text) in strings(value, "public_privileges", &mut |l, n, m| {
            self.issue(l, n, m)
        }) {
            match Privilege::new(&text) {
                Ok(p) => out.push(PublicDef {
                    privilege: p,
                    origin: self.origin(line),
                    from_public_roles: false,
                }),
                Err(e) => self.issue(line, &text, e.to_string()),
            }
        }
        out
    }

    pub(super) fn datasets(&mut self, value: &Node) -> Option<DatasetRules> {
        let mut rules = DatasetRules {
            statuses: BTreeMap::new(),
            scoped: BTreeSet::new(),
        };
        let before = self.issues.len();
        for (name_node, spec) in mapping(value, "datasets", &mut |l, n, m| self.issue(l, n, m)) {
            let Some(name) = name_node.as_str().filter(|n| segment_ok(n)) else {
                self.issue(
                    name_node.line,
                    "",
                    "a dataset name is one word without `/`, e.g. `eprint`".into(),
                );
                continue;
            };
            let Some(fields) = spec.as_map() else {
                self.issue(
                    spec.line,
                    name,
                    format!("dataset `{name}` takes `statuses` (a list) and `scoped` (true/false)"),
                );
                continue;
            };
            for (k, v) in fields {
                match k.as_str() {
                    Some("statuses") => {
                        let what = format!("dataset `{name}` statuses");
                        let list: Vec<String> =
                            strings(v, &what, &mut |l, n, m| self.issue(l, n, m))
                                .into_iter()
                                .map(|(_, s)| s)
                                .collect();
                        if let Some(bad) = list.iter().find(|s| !segment_ok(s)) {
                            self.issue(v.line, bad, format!("status `{bad}` must be one word"));
                        }
                        rules.statuses.insert(name.to_owned(), list);
                    }
                    Some("scoped") => match v.as_str() {
                        Some("true") => {
                            rules.scoped.insert(name.to_owned());
                        }
                        Some("false") => {}
                        _ => self.issue(v.line, name, "`scoped` is `true` or `false`".into()),
                    },
                    other => self.issue(
                        k.line,
                        other.unwrap_or(""),
                        format!("dataset `{name}` takes `statuses` and `scoped`"),
                    ),
                }
            }
        }
        (self.issues.len() == before).then_some(rules)
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
