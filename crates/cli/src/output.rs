//! Printing: one line of text per fact for people, one JSON document with `--json`.

use serde::Serialize;

/// Output mode.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    /// Print JSON.
    pub json: bool,
}

impl Out {
    /// Prints `text` for people, or `value` as JSON.
    pub fn emit<T: Serialize>(&self, text: &str, value: &T) {
        if self.json {
            match serde_json::to_string_pretty(value) {
                Ok(s) => println!("{s}"),
                Err(e) => eprintln!("error: cannot print JSON: {e}"),
            }
        } else if !text.is_empty() {
            println!("{}", text.trim_end_matches('\n'));
        }
    }
}

/// `yes` / `no`.
pub fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}
