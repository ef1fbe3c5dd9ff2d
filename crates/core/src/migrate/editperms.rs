//! EPrints `user_editperms` rows (serialised searches, `EPrints::Search::serialise`) read as
//! Gatehouse editorial scope filters, or refused with the reason when Gatehouse cannot
//! express them exactly. A refused search is reported and skipped by the caller: dropping
//! it narrows the user's scope, never widens it.
//!
//! A serialised search is `|`-joined (`\` escapes `|` and `\`): allow_blank, satisfy_all,
//! custom_order, dataset id, `-`, the search fields, `-`, the filters. Each search field is
//! `id:rawid:merge:match:value` with `:` percent-escaped (`URI::Escape::uri_escape`).
//! Gatehouse's filter matches when every field shares a value with the item: that is an
//! `EQ`/`EX` match with `ANY` merge (or one word), fields joined by AND. `satisfy_all = 0`
//! (OR between fields) becomes one filter per field, since a user's filters are OR'ed.

use std::collections::{BTreeMap, BTreeSet};

use gatehouse_policy::ScopeFilter;

/// The datasets whose searches define an editorial scope (EPrints searches `eprint`; the
/// `buffer` and `archive` views are subsets of it).
const DATASETS: &[&str] = &["eprint", "buffer", "archive", "inbox"];

/// Splits on unescaped `|`, undoing `\|` and `\\`.
fn split_parts(s: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    if let Some(last) = parts.last_mut() {
                        last.push(n);
                    }
                }
            }
            '|' => parts.push(String::new()),
            c => {
                if let Some(last) = parts.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    parts
}

/// `%XX` decoded (EPrints escapes `:` as `%3A`; anything else escaped is decoded too).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One search field as (field, values) when Gatehouse can express it.
fn field(spec: &str) -> Result<(String, BTreeSet<String>), String> {
    let parts: Vec<&str> = spec.splitn(5, ':').collect();
    let [id, _rawid, merge, matching, value] = parts.as_slice() else {
        return Err(format!(
            "search field `{spec}` is not `id:rawid:merge:match:value`"
        ));
    };
    let id = percent_decode(id);
    let value = percent_decode(value);
    if id.contains('/') {
        return Err(format!(
            "field `{id}` searches several fields at once (an OR Gatehouse filters cannot hold)"
        ));
    }
    let words: BTreeSet<String> = value.split_whitespace().map(str::to_owned).collect();
    if words.is_empty() {
        return Err(format!("field `{id}` has no value"));
    }
    match *matching {
        "EQ" | "EX" => {}
        "IN" => {
            return Err(format!(
                "field `{id}` matches words inside values (`IN`); Gatehouse filters match \
                 whole values only"
            ))
        }
        other => return Err(format!("field `{id}` has an unknown match `{other}`")),
    }
    if *matching == "EX" && words.len() > 1 {
        // EX compares the whole value, spaces included: one value, as written.
        let mut one = BTreeSet::new();
        one.insert(value.trim().to_owned());
        return Ok((id, one));
    }
    match *merge {
        "ANY" | "" => Ok((id, words)),
        "ALL" if words.len() == 1 => Ok((id, words)),
        "ALL" => Err(format!(
            "field `{id}` needs all of several values (`ALL`); Gatehouse filters need any one"
        )),
        other => Err(format!("field `{id}` has an unknown merge `{other}`")),
    }
}

/// Reads one serialised search as the filters it means (OR'ed), or says why it cannot.
pub fn scope_filters(serialised: &str) -> Result<Vec<ScopeFilter>, String> {
    let parts = split_parts(serialised);
    let Some(dash) = parts.iter().position(|p| p == "-") else {
        return Err("not a serialised EPrints search (no `-` separator)".to_owned());
    };
    if dash < 4 {
        return Err("not a serialised EPrints search (too few properties)".to_owned());
    }
    let satisfy_all = parts[1] == "1";
    let dataset = &parts[dash - 1];
    if !DATASETS.contains(&dataset.as_str()) {
        return Err(format!("it searches dataset `{dataset}`, not `eprint`"));
    }
    let rest = &parts[dash + 1..];
    let second = rest.iter().position(|p| p == "-").unwrap_or(rest.len());
    let fields: Vec<&String> = rest[..second].iter().filter(|p| !p.is_empty()).collect();
    let filters: Vec<&String> = rest
        .get(second + 1..)
        .unwrap_or(&[])
        .iter()
        .filter(|p| !p.is_empty())
        .collect();
    let mut common: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in filters {
        let (id, values) = field(f)?;
        and_into(&mut common, id, values);
    }
    let mut groups: Vec<BTreeMap<String, BTreeSet<String>>> = Vec::new();
    if fields.is_empty() {
        if common.is_empty() {
            return Err("a blank search (every item); left out rather than widened".to_owned());
        }
        groups.push(common.clone());
    } else if satisfy_all {
        let mut g = common.clone();
        for f in fields {
            let (id, values) = field(f)?;
            and_into(&mut g, id, values);
        }
        groups.push(g);
    } else {
        for f in fields {
            let (id, values) = field(f)?;
            let mut g = common.clone();
            and_into(&mut g, id, values);
            groups.push(g);
        }
    }
    groups
        .into_iter()
        .map(|g| ScopeFilter::from_fields(g).map_err(|e| e.to_string()))
        .collect()
}

/// ANDs `values` for `id` into a filter: the same field twice keeps the common values.
fn and_into(g: &mut BTreeMap<String, BTreeSet<String>>, id: String, values: BTreeSet<String>) {
    match g.get_mut(&id) {
        Some(old) => {
            let both: BTreeSet<String> = old.intersection(&values).cloned().collect();
            *old = both;
        }
        None => {
            g.insert(id, values);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn one(s: &str) -> Vec<String> {
        scope_filters(s)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn reads_the_forms_gatehouse_can_express() {
        assert_eq!(
            one("0|1||eprint|-|divisions:divisions:ANY:EQ:law|-|"),
            ["divisions=law"]
        );
        assert_eq!(
            one("0|1|||eprint|-|divisions:divisions:ANY:EQ:law ecs|-|"),
            ["divisions=ecs,law"]
        );
        assert_eq!(
            one("0|1||eprint|-|divisions:divisions:ANY:EQ:law|subjects:subjects:ANY:EQ:QA|-|"),
            ["divisions=law;subjects=QA"]
        );
        assert_eq!(
            one("0|0||eprint|-|divisions:divisions:ANY:EQ:law|subjects:subjects:ANY:EQ:QA|-|"),
            ["divisions=law", "subjects=QA"]
        );
        assert_eq!(
            one("0|1||eprint|-|subjects:subjects:ANY:EQ:a%3Ab|-|"),
            ["subjects=a:b"]
        );
    }

    #[test]
    fn refuses_what_would_change_the_scope() {
        for (s, why) in [
            ("0|1||eprint|-|title:title:ALL:IN:open access|-|", "IN"),
            ("0|1||eprint|-|divisions:divisions:ALL:EQ:law ecs|-|", "ALL"),
            (
                "0|1||user|-|divisions:divisions:ANY:EQ:law|-|",
                "dataset `user`",
            ),
            ("1|1||eprint|-||-|", "blank"),
            (
                "0|1||eprint|-|title/abstract:title/abstract:ANY:EQ:x|-|",
                "several",
            ),
            ("garbage", "separator"),
        ] {
            let e = scope_filters(s).unwrap_err();
            assert!(e.contains(why), "{s}: {e}");
        }
    }
}
