//! The item a privilege is checked against, borrowed: [`ItemRef`] describes a repository
//! record straight from the caller's own row (dataset, status, owners, field values) without
//! allocating, so that a check costs no allocation.
//!
//! [`Item`](crate::Item) is the owned form (JSON, the command line); [`Item::view`](crate::Item::view)
//! lends it as an `ItemRef`.

use std::collections::BTreeMap;

use crate::ident::UserId;
use crate::model::{Owner, UserFacts};

/// The owners of an item: none, user ids, or a mix of ids and emails.
#[derive(Debug, Clone, Copy, Default)]
pub enum Owners<'a> {
    /// The item has no owner.
    #[default]
    None,
    /// Owners by user id (the usual case: EPrints' `userid`, InvenioRDM's `owners`).
    Ids(&'a [UserId]),
    /// Owners by id or email (emails compare case-insensitively).
    Mixed(&'a [Owner]),
}

/// The values of one field of an item.
#[derive(Debug, Clone, Copy)]
pub enum Values<'a> {
    /// One value.
    One(&'a str),
    /// Borrowed string slices.
    Strs(&'a [&'a str]),
    /// Owned strings, as a row read from a database holds them.
    Strings(&'a [String]),
}

impl<'a> Values<'a> {
    /// Whether any value satisfies `f`.
    #[inline]
    pub(crate) fn any(self, mut f: impl FnMut(&str) -> bool) -> bool {
        match self {
            Values::One(v) => f(v),
            Values::Strs(vs) => vs.iter().any(|v| f(v)),
            Values::Strings(vs) => vs.iter().any(|v| f(v)),
        }
    }
}

impl<'a> From<&'a str> for Values<'a> {
    fn from(v: &'a str) -> Self {
        Values::One(v)
    }
}

impl<'a> From<&'a String> for Values<'a> {
    fn from(v: &'a String) -> Self {
        Values::One(v)
    }
}

impl<'a> From<&'a [&'a str]> for Values<'a> {
    fn from(v: &'a [&'a str]) -> Self {
        Values::Strs(v)
    }
}

impl<'a, const N: usize> From<&'a [&'a str; N]> for Values<'a> {
    fn from(v: &'a [&'a str; N]) -> Self {
        Values::Strs(v)
    }
}

impl<'a> From<&'a [String]> for Values<'a> {
    fn from(v: &'a [String]) -> Self {
        Values::Strings(v)
    }
}

impl<'a> From<&'a Vec<String>> for Values<'a> {
    fn from(v: &'a Vec<String>) -> Self {
        Values::Strings(v)
    }
}

/// One field of an item: its name and values (hierarchical values with their ancestors, as
/// EPrints' subjects are).
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    /// The field name, e.g. `divisions`.
    pub name: &'a str,
    /// Its values.
    pub values: Values<'a>,
}

impl<'a> Field<'a> {
    /// A field from a name and anything that lends its values.
    pub fn new(name: &'a str, values: impl Into<Values<'a>>) -> Self {
        Field {
            name,
            values: values.into(),
        }
    }
}

/// Where an item's fields come from.
#[derive(Debug, Clone, Copy, Default)]
enum Fields<'a> {
    #[default]
    None,
    Slice(&'a [Field<'a>]),
    Map(&'a BTreeMap<String, Vec<String>>),
}

/// An item described by borrowing: what a privilege is checked against.
///
/// ```
/// use gatehouse_policy::{Field, ItemRef, UserId};
///
/// // A row as a repository holds it.
/// struct Row { status: String, owner: i64, divisions: Vec<String> }
/// let row = Row { status: "buffer".into(), owner: 7, divisions: vec!["law".into()] };
///
/// let owners = [UserId(row.owner)];
/// let fields = [Field::new("divisions", &row.divisions)];
/// let item = ItemRef::new("eprint")
///     .status(&row.status)
///     .owned_by(&owners)
///     .fields(&fields);
/// assert_eq!(item.dataset(), "eprint");
/// assert!(item.has_value("divisions", "law"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ItemRef<'a> {
    dataset: &'a str,
    status: Option<&'a str>,
    owners: Owners<'a>,
    fields: Fields<'a>,
}

impl<'a> ItemRef<'a> {
    /// An item of `dataset` (`eprint`, `user`, `saved_search`...) with no status, owners or
    /// fields.
    pub fn new(dataset: &'a str) -> Self {
        ItemRef {
            dataset,
            status: None,
            owners: Owners::None,
            fields: Fields::None,
        }
    }

    /// Sets the status (EPrints virtual dataset: `inbox`, `buffer`, `archive`, `deletion`).
    pub fn status(mut self, status: &'a str) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets the status if there is one.
    pub fn maybe_status(mut self, status: Option<&'a str>) -> Self {
        self.status = status;
        self
    }

    /// Sets the owners by user id.
    pub fn owned_by(mut self, owners: &'a [UserId]) -> Self {
        self.owners = Owners::Ids(owners);
        self
    }

    /// Sets the owners by id or email.
    pub fn owners(mut self, owners: Owners<'a>) -> Self {
        self.owners = owners;
        self
    }

    /// Sets the fields editorial scope looks at.
    pub fn fields(mut self, fields: &'a [Field<'a>]) -> Self {
        self.fields = Fields::Slice(fields);
        self
    }

    pub(crate) fn field_map(mut self, fields: &'a BTreeMap<String, Vec<String>>) -> Self {
        self.fields = Fields::Map(fields);
        self
    }

    /// The dataset.
    pub fn dataset(&self) -> &'a str {
        self.dataset
    }

    /// The status, if any.
    pub fn status_str(&self) -> Option<&'a str> {
        self.status
    }

    /// Whether the field `name` holds `value`.
    pub fn has_value(&self, name: &str, value: &str) -> bool {
        self.field_any(name, |v| v == value)
    }

    /// Whether some value of field `name` satisfies `f`.
    #[inline]
    pub(crate) fn field_any(&self, name: &str, f: impl FnMut(&str) -> bool) -> bool {
        match self.fields {
            Fields::None => false,
            Fields::Slice(fields) => fields
                .iter()
                .find(|field| crate::table::same_bytes(field.name.as_bytes(), name.as_bytes()))
                .is_some_and(|field| field.values.any(f)),
            Fields::Map(map) => map.get(name).is_some_and(|vs| Values::Strings(vs).any(f)),
        }
    }

    /// Whether `user` is one of the owners (by id, or by email case-insensitively).
    #[inline]
    pub fn is_owned_by(&self, user: &UserFacts) -> bool {
        match self.owners {
            Owners::None => false,
            Owners::Ids(ids) => ids.contains(&user.id),
            Owners::Mixed(owners) => owned_by_mixed(owners, user),
        }
    }

    /// Checks the parts that become part of privilege strings.
    pub fn validate(&self) -> Result<(), crate::ItemError> {
        let segment_ok = |s: &str| {
            !s.is_empty()
                && !s.contains('/')
                && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        };
        if !segment_ok(self.dataset) {
            return Err(crate::ItemError(format!(
                "dataset `{}` must be one non-empty word without `/`, e.g. `eprint`",
                crate::ident::shorten(self.dataset)
            )));
        }
        if let Some(status) = self.status {
            if !segment_ok(status) {
                return Err(crate::ItemError(format!(
                    "status `{}` must be one non-empty word without `/`, e.g. `buffer`",
                    crate::ident::shorten(status)
                )));
            }
        }
        Ok(())
    }
}

/// Owners given by id or email (the JSON and command-line form), out of line.
#[inline(never)]
fn owned_by_mixed(owners: &[Owner], user: &UserFacts) -> bool {
    owners.iter().any(|o| match o {
        Owner::Id(id) => *id == user.id,
        Owner::Email(e) => user
            .email
            .as_deref()
            .is_some_and(|mine| same_email(mine, e)),
    })
}

/// Emails compared case-insensitively, surrounding white space ignored, without allocating.
fn same_email(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_by_id_or_email() {
        let user = UserFacts {
            id: UserId(7),
            email: Some("ann@example.org".into()),
            ..UserFacts::default()
        };
        let ids = [UserId(3), UserId(7)];
        assert!(ItemRef::new("eprint").owned_by(&ids).is_owned_by(&user));
        let mixed = [
            Owner::Id(UserId(1)),
            Owner::Email(" ANN@example.org".into()),
        ];
        assert!(ItemRef::new("eprint")
            .owners(Owners::Mixed(&mixed))
            .is_owned_by(&user));
        assert!(!ItemRef::new("eprint").is_owned_by(&user));
        assert!(same_email("ÄNN@x.org", "änn@X.ORG"));
        assert!(!same_email("ann@x.org", "anna@x.org"));
    }

    #[test]
    fn fields_from_rows_and_literals() {
        let subjects = vec!["QA".to_owned(), "Q".to_owned()];
        let fields = [
            Field::new("subjects", &subjects),
            Field::new("divisions", "law"),
            Field::new("type", &["article", "book"]),
        ];
        let item = ItemRef::new("eprint").fields(&fields);
        assert!(item.has_value("subjects", "Q"));
        assert!(item.has_value("divisions", "law"));
        assert!(item.has_value("type", "book"));
        assert!(!item.has_value("type", "thesis"));
        assert!(!item.has_value("colour", "red"));
    }
}
