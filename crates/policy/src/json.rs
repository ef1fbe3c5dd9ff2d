//! JSON in, JSON out: the engine for hosts in other languages (Perl, Java, Python) that
//! embed it through a C ABI or a subprocess and would rather not build Rust values.
//!
//! The request is one check, or `{"checks": [...]}` for several; the answer is a
//! [`Decision`] (or `{"results": [...]}`), or `{"error": {"code", "message"}}`. The schema is
//! in the crate README ("JSON entry").

use serde::{Deserialize, Serialize};

use crate::compile::CompiledPolicy;
use crate::decide::Decision;
use crate::ident::{Privilege, TypeName, UserId};
use crate::model::{Entry, Item, ScopeFilter, UserFacts};

/// The user of a JSON request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonUser {
    id: i64,
    #[serde(default)]
    email: Option<String>,
    #[serde(default = "yes")]
    active: bool,
    #[serde(default, rename = "type")]
    user_type: Option<String>,
    #[serde(default)]
    entries: Vec<String>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
    #[serde(default)]
    editorial_scope: Vec<std::collections::BTreeMap<String, std::collections::BTreeSet<String>>>,
}

fn yes() -> bool {
    true
}

/// One check of a JSON request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonCheck {
    #[serde(default)]
    user: Option<JsonUser>,
    privilege: String,
    #[serde(default)]
    item: Option<Item>,
}

#[derive(Debug, Serialize)]
struct JsonError {
    code: &'static str,
    message: String,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum JsonAnswer {
    Decision(Decision),
    Error { error: JsonError },
}

fn invalid(message: String) -> JsonAnswer {
    JsonAnswer::Error {
        error: JsonError {
            code: "invalid_request",
            message,
        },
    }
}

impl JsonUser {
    fn facts(self) -> Result<UserFacts, String> {
        let field = |name: &str, e: &dyn std::fmt::Display| format!("`user.{name}`: {e}");
        Ok(UserFacts {
            id: UserId(self.id),
            email: self.email,
            active: self.active,
            user_type: self
                .user_type
                .map(|t| t.parse::<TypeName>())
                .transpose()
                .map_err(|e| field("type", &e))?,
            entries: self
                .entries
                .iter()
                .map(|e| e.parse::<Entry>())
                .collect::<Result<_, _>>()
                .map_err(|e| field("entries", &e))?,
            allow: self
                .allow
                .iter()
                .map(|p| Privilege::new(p))
                .collect::<Result<_, _>>()
                .map_err(|e| field("allow", &e))?,
            deny: self
                .deny
                .iter()
                .map(|p| Privilege::new(p))
                .collect::<Result<_, _>>()
                .map_err(|e| field("deny", &e))?,
            editorial_scope: self
                .editorial_scope
                .into_iter()
                .map(ScopeFilter::from_fields)
                .collect::<Result<_, _>>()
                .map_err(|e| field("editorial_scope", &e))?,
        })
    }
}

impl CompiledPolicy {
    fn answer_json(&self, check: JsonCheck) -> JsonAnswer {
        if let Err(e) = Privilege::new(&check.privilege) {
            return invalid(format!("`privilege`: {e}"));
        }
        if let Some(item) = &check.item {
            if let Err(e) = item.validate() {
                return invalid(format!("`item`: {e}"));
            }
        }
        let item = check.item.as_ref().map(Item::view);
        match check.user {
            None => JsonAnswer::Decision(self.check_anonymous(&check.privilege, item.as_ref())),
            Some(user) => match user.facts() {
                Ok(facts) => {
                    JsonAnswer::Decision(self.check(&facts, &check.privilege, item.as_ref()))
                }
                Err(e) => invalid(e),
            },
        }
    }

    /// Decides a JSON request and answers in JSON; never fails (a bad request gets an error
    /// object naming the field).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use gatehouse_policy::{CompiledPolicy, PolicyConfig};
    ///
    /// let policy = CompiledPolicy::compile(Arc::new(PolicyConfig::builtin().clone()), &[], &[], 1)
    ///     .expect("compiles");
    /// let answer = policy.decide_json(r#"{
    ///     "user": {"id": 7, "type": "user"},
    ///     "privilege": "eprint/edit",
    ///     "item": {"dataset": "eprint", "status": "inbox", "owners": [7]}
    /// }"#);
    /// assert!(answer.starts_with(r#"{"allowed":true,"mask":4,"#), "{answer}");
    /// let bad = policy.decide_json(r#"{"privilege": "+oops"}"#);
    /// assert!(bad.contains(r#""code":"invalid_request""#), "{bad}");
    /// ```
    pub fn decide_json(&self, request: &str) -> String {
        let one = |value: serde_json::Value| match serde_json::from_value::<JsonCheck>(value) {
            Ok(check) => self.answer_json(check),
            Err(e) => invalid(format!("not a check request: {e}")),
        };
        let answer = match serde_json::from_str::<serde_json::Value>(request) {
            Err(e) => serde_json::to_string(&invalid(format!("not JSON: {e}"))),
            Ok(serde_json::Value::Object(mut obj))
                if obj.len() == 1 && obj.contains_key("checks") =>
            {
                match obj.remove("checks") {
                    Some(serde_json::Value::Array(checks)) => {
                        let results: Vec<JsonAnswer> = checks.into_iter().map(one).collect();
                        serde_json::to_string(&serde_json::json!({ "results": results }))
                    }
                    _ => serde_json::to_string(&invalid("`checks` must be a list".into())),
                }
            }
            Ok(value) => serde_json::to_string(&one(value)),
        };
        answer.unwrap_or_else(|_| {
            r#"{"error":{"code":"internal","message":"the answer could not be written"}}"#
                .to_owned()
        })
    }
}
