//! History: every recorded change, newest first, filtered by user, actor, target, kind and
//! time, paged, and exported as CSV or JSON (the same filter). The same core query as
//! `gatehouse history` and `GET /api/history` (`staff/history_search`; reading also with
//! `administration-access`).

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use gatehouse_core::{HistoryEvent, HistoryFilter, UserRef};
use gatehouse_policy::UserId;
use maud::html;
use serde::Deserialize;

use super::layout::{pct, when, FormView, Input};
use super::users::{csv_cell, csv_response};
use super::{error_page, Admin};
use crate::AppState;

/// Events per page.
const PAGE: u64 = 50;
/// The most events one export carries.
const EXPORT_MAX: u64 = 100_000;

/// The kinds of change the history records, for the filter's suggestions.
const KINDS: &[&str] = &[
    "user.create",
    "user.update",
    "user.activate",
    "user.deactivate",
    "user.confirm",
    "user.send_confirmation",
    "user.set_password",
    "user.delete",
    "role.create",
    "role.update",
    "grant.allow",
    "grant.deny",
    "grant.remove",
    "token.create",
    "token.revoke",
    "client.create",
    "client.revoke",
    "client.rotate_secret",
    "keys.rotate",
];

/// The page's query (all text, checked here).
#[derive(Debug, Default, Deserialize, Clone)]
pub struct HistoryQuery {
    #[serde(default)]
    user: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    format: String,
}

fn day(name: &str, v: &str, end: bool) -> Result<Option<DateTime<Utc>>, String> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
        format!(
            "“{}” is not a date for {name}; write it as 2026-12-31.",
            gatehouse_core::text::shorten(v)
        )
    })?;
    // `until` is exclusive: the end of a day is the start of the next.
    let d = if end { d.succ_opt().unwrap_or(d) } else { d };
    Ok(d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()))
}

fn filter(q: &HistoryQuery) -> Result<(Option<UserRef>, HistoryFilter, u64), String> {
    let user = match q.user.trim() {
        "" => None,
        u => Some(
            u.parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .map(|n| UserRef::Id(UserId(n)))
                .ok_or_else(|| {
                    format!("“{}” is not a user id.", gatehouse_core::text::shorten(u))
                })?,
        ),
    };
    let page = match q.page.trim() {
        "" => 1,
        p => p
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(|| {
                format!(
                    "“{}” is not a page number; pages are numbered from 1.",
                    gatehouse_core::text::shorten(p)
                )
            })?,
    };
    let text = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    for (name, v) in [
        ("actor", &q.actor),
        ("target", &q.target),
        ("kind", &q.kind),
    ] {
        if v.chars().count() > 200 {
            return Err(format!("the {name} filter has at most 200 characters."));
        }
    }
    let f = HistoryFilter {
        user_id: None,
        since: day("from", &q.from, false)?,
        until: day("to", &q.to, true)?,
        actor: text(&q.actor),
        target: text(&q.target),
        action: text(&q.kind),
        newest_first: true,
        offset: (page - 1) * PAGE,
        limit: PAGE,
    };
    Ok((user, f, page))
}

fn link(q: &HistoryQuery, page: Option<u64>, format: &str) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("user", &q.user),
        ("actor", &q.actor),
        ("target", &q.target),
        ("kind", &q.kind),
        ("from", &q.from),
        ("to", &q.to),
    ] {
        if !v.trim().is_empty() {
            parts.push(format!("{k}={}", pct(v.trim())));
        }
    }
    if let Some(p) = page {
        parts.push(format!("page={p}"));
    }
    if !format.is_empty() {
        parts.push(format!("format={format}"));
    }
    format!("/admin/history?{}", parts.join("&"))
}

fn details(e: &HistoryEvent) -> String {
    match &e.details {
        serde_json::Value::Object(m) if m.is_empty() => String::new(),
        serde_json::Value::Null => String::new(),
        v => v.to_string(),
    }
}

/// `GET /admin/history`.
pub async fn page(
    admin: Admin,
    State(state): State<AppState>,
    Query(q): Query<HistoryQuery>,
) -> Response {
    let chrome = admin.chrome("history");
    let (user, mut f, page) = match filter(&q) {
        Ok(x) => x,
        Err(why) => return admin.bad_request(&why),
    };
    let gh = &state.0.gh;
    match q.format.as_str() {
        "" => {}
        "csv" | "json" => {
            f.offset = 0;
            f.limit = EXPORT_MAX;
            let found = match gh.history_page(admin.ctx(), user.as_ref(), f).await {
                Ok(p) => p,
                Err(e) => return error_page(&chrome, e),
            };
            if q.format == "json" {
                let body =
                    serde_json::to_string_pretty(&found.items).unwrap_or_else(|_| "[]".into());
                return (
                    [
                        (header::CONTENT_TYPE, "application/json".to_owned()),
                        (header::CACHE_CONTROL, "no-store".to_owned()),
                        (
                            header::CONTENT_DISPOSITION,
                            "attachment; filename=\"history.json\"".to_owned(),
                        ),
                    ],
                    body,
                )
                    .into_response();
            }
            let mut out = String::from("id,at,actor,channel,kind,user_id,target,details\r\n");
            for e in &found.items {
                let row = [
                    e.id.to_string(),
                    e.at.to_rfc3339(),
                    e.actor.clone(),
                    e.channel.as_str().to_owned(),
                    e.action.clone(),
                    e.user_id.map(|u| u.to_string()).unwrap_or_default(),
                    e.target.clone(),
                    details(e),
                ];
                out.push_str(
                    &row.iter()
                        .map(|c| csv_cell(c))
                        .collect::<Vec<_>>()
                        .join(","),
                );
                out.push_str("\r\n");
            }
            return csv_response("history.csv", out);
        }
        other => {
            return admin.bad_request(&format!(
                "“{}” is not an export format; use csv or json.",
                gatehouse_core::text::shorten(other)
            ))
        }
    }
    let found = match gh.history_page(admin.ctx(), user.as_ref(), f).await {
        Ok(p) => p,
        Err(e) => return error_page(&chrome, e),
    };
    let pages = found.total.div_ceil(PAGE).max(1);
    let fv = FormView::new("filters", None);
    let kinds: Vec<(String, String)> = std::iter::once((String::new(), "any".to_owned()))
        .chain(KINDS.iter().map(|k| ((*k).to_owned(), (*k).to_owned())))
        .collect();
    let body = html! {
        form.filters method="get" action="/admin/history" role="search" {
            (fv.input(Input::text("user", "User id").value(&q.user).max(20)))
            (fv.input(Input::text("actor", "Actor (who did it) contains").value(&q.actor).max(200)))
            (fv.input(Input::text("target", "Target contains").value(&q.target).max(200)))
            (fv.select("kind", "Kind of change", &kinds, &q.kind))
            (fv.input(Input::text("from", "From (date)").kind("date").value(&q.from)))
            (fv.input(Input::text("to", "To (date)").kind("date").value(&q.to)))
            p.field { button type="submit" { "Filter" } }
        }
        p.actions {
            a.button.secondary href=(link(&q, None, "csv")) { "Export as CSV" }
            a.button.secondary href=(link(&q, None, "json")) { "Export as JSON" }
        }
        p.count aria-live="polite" { (found.total) " events" @if pages > 1 { ", page " (page) " of " (pages) } }
        div.table-wrap {
            table.stack {
                caption.sr-only { "History, newest first" }
                thead { tr {
                    th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Kind" }
                    th scope="col" { "User" } th scope="col" { "Target" } th scope="col" { "Details" }
                } }
                tbody {
                    @for e in &found.items {
                        tr {
                            td data-label="When" { (when(&e.at)) }
                            td data-label="Who" { (e.actor) " (" (e.channel.as_str().to_owned()) ")" }
                            td data-label="Kind" { code { (e.action) } }
                            td data-label="User" { @if let Some(u) = e.user_id { a href=(format!("/admin/users/{u}")) { (u) } } }
                            td data-label="Target" { (e.target) }
                            td data-label="Details" { code.details { (details(e)) } }
                        }
                    }
                    @if found.items.is_empty() { tr { td colspan="6" { "No events match." } } }
                }
            }
        }
        nav.pager aria-label="Pages" {
            @if page > 1 { a rel="prev" href=(link(&q, Some(page - 1), "")) { "← Newer" } }
            @if page < pages { a rel="next" href=(link(&q, Some(page + 1), "")) { "Older →" } }
        }
    };
    let title = match &user {
        Some(u) => format!("History of user {u}"),
        None => "History".to_owned(),
    };
    admin.page("history", &title, body)
}
