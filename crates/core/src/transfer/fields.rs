//! One line of an export file as a JSON object, and typed access to its fields with messages
//! that name the line, the record type and the field. Values are only echoed where the
//! domain type's own message does so (an email, a role name), never for hashes.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::at_line;
use crate::error::CoreError;

/// The fields of one line.
pub(super) struct Fields {
    /// The 1-based line number.
    pub(super) line: u64,
    /// The record type, for messages.
    kind: &'static str,
    map: Map<String, Value>,
}

impl Fields {
    /// Parses line `line`; it must be one JSON object.
    pub(super) fn read(line: u64, text: &str) -> Result<Fields, CoreError> {
        let text = text.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            return Err(at_line(
                line,
                "an empty line; every line of an export is one JSON object",
            ));
        }
        // serde_json's messages name a position, never the text itself.
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(Fields {
                line,
                kind: "record",
                map,
            }),
            Ok(_) => Err(at_line(line, "expected a JSON object")),
            Err(e) => Err(at_line(
                line,
                format!(
                    "not valid JSON (column {}): {}",
                    e.column(),
                    e.classify_text()
                ),
            )),
        }
    }

    /// The same fields, named as a record of `kind` in messages.
    pub(super) fn with_kind(self, kind: &'static str) -> Fields {
        Fields { kind, ..self }
    }

    /// An error about `field`.
    /// A string field held to [`crate::text::check_line`].
    pub(super) fn line(&self, field: &'static str, max: usize) -> Result<String, CoreError> {
        let value = self.str(field)?;
        crate::text::check_line(field, value, max).map_err(|e| self.bad(field, e))?;
        Ok(value.to_owned())
    }

    pub(super) fn bad(&self, field: &str, message: impl std::fmt::Display) -> CoreError {
        at_line(
            self.line,
            format!("field `{field}` of a `{}` record: {message}", self.kind),
        )
    }

    /// Refuses fields other than `known`.
    pub(super) fn only(&self, known: &[&str]) -> Result<(), CoreError> {
        match self.map.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(at_line(
                self.line,
                format!(
                    "unknown field `{k}` in a `{}` record; expected {}",
                    self.kind,
                    known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            None => Ok(()),
        }
    }

    /// A field that must be present (any JSON value, `null` included).
    pub(super) fn value(&self, field: &str) -> Result<&Value, CoreError> {
        self.map
            .get(field)
            .ok_or_else(|| self.bad(field, "it is missing"))
    }

    /// A string.
    pub(super) fn str(&self, field: &str) -> Result<&str, CoreError> {
        self.value(field)?
            .as_str()
            .ok_or_else(|| self.bad(field, "must be a string"))
    }

    /// A string or `null` (or absent).
    pub(super) fn opt_str(&self, field: &str) -> Result<Option<&str>, CoreError> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.bad(field, "must be a string or null")),
        }
    }

    /// `true` or `false`.
    pub(super) fn bool(&self, field: &str) -> Result<bool, CoreError> {
        self.value(field)?
            .as_bool()
            .ok_or_else(|| self.bad(field, "must be true or false"))
    }

    /// A whole number.
    pub(super) fn i64(&self, field: &str) -> Result<i64, CoreError> {
        self.value(field)?
            .as_i64()
            .ok_or_else(|| self.bad(field, "must be a whole number"))
    }

    /// A whole number or `null` (or absent).
    pub(super) fn opt_i64(&self, field: &str) -> Result<Option<i64>, CoreError> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.bad(field, "must be a whole number or null")),
        }
    }

    fn parse_time(&self, field: &str, s: &str) -> Result<DateTime<Utc>, CoreError> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                self.bad(
                    field,
                    "must be an RFC 3339 time such as `2024-05-01T12:00:00.000000Z`",
                )
            })
    }

    /// A time.
    pub(super) fn time(&self, field: &str) -> Result<DateTime<Utc>, CoreError> {
        self.parse_time(field, self.str(field)?)
    }

    /// A time or `null` (or absent).
    pub(super) fn opt_time(&self, field: &str) -> Result<Option<DateTime<Utc>>, CoreError> {
        self.opt_str(field)?
            .map(|s| self.parse_time(field, s))
            .transpose()
    }

    /// A string parsed with `FromStr` (identifiers: their messages name the value).
    pub(super) fn parse<T>(&self, field: &str) -> Result<T, CoreError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        self.str(field)?
            .parse()
            .map_err(|e: T::Err| self.bad(field, e))
    }

    /// A string checked by a domain constructor.
    pub(super) fn domain<T>(
        &self,
        field: &str,
        make: impl Fn(&str) -> Result<T, CoreError>,
    ) -> Result<T, CoreError> {
        make(self.str(field)?).map_err(|e| self.bad(field, e))
    }

    /// An array of strings, each parsed with `FromStr`, in order.
    pub(super) fn list<T>(&self, field: &str) -> Result<Vec<T>, CoreError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        let items = self
            .value(field)?
            .as_array()
            .ok_or_else(|| self.bad(field, "must be a list of strings"))?;
        items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let s = v
                    .as_str()
                    .ok_or_else(|| self.bad(field, "must be a list of strings"))?;
                s.parse()
                    .map_err(|e: T::Err| self.bad(field, format!("item {}: {e}", i + 1)))
            })
            .collect()
    }
}

/// What kind of JSON syntax problem, in words.
trait Classify {
    fn classify_text(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    fn classify_text(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Eof => "the line ends in the middle of a value",
            serde_json::error::Category::Syntax => "a syntax error",
            serde_json::error::Category::Data | serde_json::error::Category::Io => {
                "an unreadable value"
            }
        }
    }
}
