//! List filters: which items of a dataset a subject may act on, as data a search index can
//! apply (InvenioRDM's `query_filter`, an EPrints search restriction), so that a list shows
//! exactly what a check allows, item by item.
//!
//! A check's answer on an item depends only on the item's status, on whether the subject
//! owns it, and on whether it is in their editorial scope; so the items a subject may act on
//! are a disjunction of conditions over those three, each tagged with the bit it sets.
//! [`ListFilter::mask`] evaluates the filter on one item: it equals the check's mask (a
//! property test holds them equal on random policies, users and items).

use serde::Serialize;

use crate::audience::scope_admits;
use crate::decide::{Subject, EDITOR, OWNER, PUBLIC, USER};
use crate::ident::UserId;
use crate::item::ItemRef;
use crate::model::{ScopeFilter, UserFacts};

/// Whether a filter matches every item, none, or those its conditions admit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// Every item of the dataset.
    All,
    /// No item.
    None,
    /// The items matching at least one condition.
    Some,
}

/// The owner an owner condition asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerIs {
    /// The user's id (an item owned by this id).
    pub id: UserId,
    /// The user's email, for items that name owners by email (case-insensitive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// One condition: an item matching every part of it gets `bit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilterCondition {
    /// The bit it sets: `public`, `user`, `owner` or `editor`.
    pub bit: &'static str,
    /// Only items with one of these statuses (absent: any status, or none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Vec<String>>,
    /// Only items this user owns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<OwnerIs>,
    /// Only items matching one of these filters (each: every field shares a value with the
    /// item). Absent: any item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Vec<ScopeFilter>>,
}

impl FilterCondition {
    fn unconditional(&self) -> bool {
        self.status.is_none() && self.owner.is_none() && self.scope.is_none()
    }

    fn bit_value(&self) -> u8 {
        match self.bit {
            "public" => PUBLIC,
            "user" => USER,
            "owner" => OWNER,
            _ => EDITOR,
        }
    }

    /// Whether `item` matches every part of the condition.
    pub fn matches(&self, item: &ItemRef<'_>) -> bool {
        let status_ok = match &self.status {
            None => true,
            Some(list) => item
                .status_str()
                .is_some_and(|s| list.iter().any(|l| l == s)),
        };
        let owner_ok = match &self.owner {
            None => true,
            Some(o) => item.is_owned_by(&UserFacts {
                id: o.id,
                email: o.email.clone(),
                ..UserFacts::default()
            }),
        };
        let scope_ok = match &self.scope {
            None => true,
            Some(filters) => filters.iter().any(|f| f.matches(item)),
        };
        status_ok && owner_ok && scope_ok
    }
}

/// Which items of `dataset` a subject may exercise `privilege` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListFilter {
    /// The dataset the items belong to.
    pub dataset: String,
    /// The privilege.
    pub privilege: String,
    /// `all`, `none`, or `some` (those matching a condition).
    pub coverage: Coverage,
    /// The conditions, OR-ed (empty for `none`).
    pub conditions: Vec<FilterCondition>,
}

impl ListFilter {
    /// The check's mask on `item` (of the filter's dataset) as the filter sees it.
    pub fn mask(&self, item: &ItemRef<'_>) -> u8 {
        self.conditions
            .iter()
            .filter(|c| c.matches(item))
            .fold(0, |m, c| m | c.bit_value())
    }

    /// Whether the filter admits `item`.
    pub fn admits(&self, item: &ItemRef<'_>) -> bool {
        self.mask(item) != 0
    }
}

impl<'a> Subject<'a> {
    /// The items of `dataset` this subject may exercise `privilege` on, as conditions a
    /// search index can apply. Equal to checking every item ([`ListFilter::mask`] is the
    /// check's mask), computed from the policy alone: one [`Subject::holds`] per status of
    /// the dataset.
    pub fn list_filter(&self, privilege: &str, dataset: &str) -> ListFilter {
        let policy = self.policy();
        let statuses: Vec<&str> = policy
            .datasets
            .iter()
            .find(|d| &*d.name == dataset)
            .map(|d| d.statuses.iter().map(|s| &**s).collect())
            .unwrap_or_default();
        // Items with no status (or one the dataset does not list) test the privilege alone;
        // an item with a listed status also tests its status form, so holds at least as much.
        let plain = self.holds(privilege, Some(&ItemRef::new(dataset)));
        let by_status: Vec<(&str, crate::Holds)> = statuses
            .iter()
            .map(|s| {
                (
                    *s,
                    self.holds(privilege, Some(&ItemRef::new(dataset).status(s))),
                )
            })
            .collect();
        let user = self.user_facts();
        let active = user.is_some_and(|u| u.active);
        let scoped = policy.is_scoped(dataset);
        let mut conditions = Vec::new();
        type Pick = fn(&crate::Holds) -> bool;
        let bits: [(&'static str, Pick); 4] = [
            ("public", |h| h.public),
            ("user", |h| h.user),
            ("owner", |h| h.owner),
            ("editor", |h| h.editor),
        ];
        for (bit, pick) in bits {
            if bit != "public" && !active {
                break;
            }
            let status = if pick(&plain) {
                None
            } else {
                let list: Vec<String> = by_status
                    .iter()
                    .filter(|(_, h)| pick(h))
                    .map(|(s, _)| (*s).to_owned())
                    .collect();
                if list.is_empty() {
                    continue;
                }
                Some(list)
            };
            let mut c = FilterCondition {
                bit,
                status,
                owner: None,
                scope: None,
            };
            if let Some(u) = user {
                if bit == "owner" {
                    c.owner = Some(OwnerIs {
                        id: u.id,
                        email: u.email.clone(),
                    });
                }
                if bit == "editor" && scoped {
                    if u.editorial_scope.is_empty() {
                        let probe = ItemRef::new(dataset);
                        if !scope_admits(true, u, plain.editperms_none_by_default, &probe) {
                            continue; // an empty scope that admits nothing
                        }
                    } else {
                        c.scope = Some(u.editorial_scope.clone());
                    }
                }
            }
            conditions.push(c);
        }
        let coverage = if conditions.iter().any(FilterCondition::unconditional) {
            Coverage::All
        } else if conditions.is_empty() {
            Coverage::None
        } else {
            Coverage::Some
        };
        ListFilter {
            dataset: dataset.to_owned(),
            privilege: privilege.to_owned(),
            coverage,
            conditions,
        }
    }
}
