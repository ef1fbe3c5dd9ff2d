//! The tokens of the Perl subset `policy convert` reads: variables, bare words, quoted
//! strings (refusing interpolation), `qw` lists and punctuation, with their lines; comments
//! and POD dropped.

use super::ConvertError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Tok {
    /// `$name`
    Var(String),
    /// A bare word (`[A-Za-z_][A-Za-z0-9_]*`).
    Word(String),
    /// A quoted string.
    Str(String),
    /// `qw(...)`: its words.
    Qw(Vec<String>),
    /// Punctuation: `->`, `=>`, `{`, `}`, `[`, `]`, `(`, `)`, `,`, `;`, `=`, `@`, `-`, or any
    /// other single character.
    P(&'static str),
    /// A character outside the subset.
    Other(char),
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) line: u32,
}

pub(super) fn err(line: u32, message: impl Into<String>) -> ConvertError {
    ConvertError {
        line,
        message: message.into(),
    }
}

/// Splits the file into tokens, dropping comments and POD. Problems inside a string go to
/// `soft` (the string is still a token); an unclosed string or `qw` ends reading.
pub(super) fn tokenize(
    text: &str,
    soft: &mut Vec<ConvertError>,
) -> Result<Vec<Token>, ConvertError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1u32;
    let mut at_line_start = true;
    while i < chars.len() {
        let c = chars[i];
        if at_line_start && c == '=' && chars.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic()) {
            // POD: from `=word` at the start of a line to the line after `=cut`.
            loop {
                let start = i;
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                if i < chars.len() {
                    i += 1;
                    line += 1;
                }
                if text.starts_with("=cut") || i >= chars.len() {
                    break;
                }
            }
            continue;
        }
        at_line_start = false;
        match c {
            '\n' => {
                line += 1;
                at_line_start = true;
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\'' | '"' => {
                let start_line = line;
                let (s, next, lines) = quoted(&chars, i, start_line, soft)?;
                out.push(Token {
                    tok: Tok::Str(s),
                    line: start_line,
                });
                line += lines;
                i = next;
            }
            '$' => {
                let start = i + 1;
                let mut j = start;
                while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                if j == start {
                    return Err(err(line, "a `$` that does not start a variable name"));
                }
                out.push(Token {
                    tok: Tok::Var(chars[start..j].iter().collect()),
                    line,
                });
                i = j;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if word == "qw" {
                    let mut j = i;
                    while j < chars.len() && chars[j].is_whitespace() && chars[j] != '\n' {
                        j += 1;
                    }
                    if let Some(&open) = chars.get(j).filter(|c| {
                        !c.is_alphanumeric()
                            && !c.is_whitespace()
                            && **c != ','
                            && **c != '='
                            && **c != ';'
                    }) {
                        let close = match open {
                            '(' => ')',
                            '[' => ']',
                            '{' => '}',
                            '<' => '>',
                            other => other,
                        };
                        let start_line = line;
                        let mut k = j + 1;
                        let mut body = String::new();
                        while k < chars.len() && chars[k] != close {
                            if chars[k] == '\n' {
                                line += 1;
                            }
                            body.push(chars[k]);
                            k += 1;
                        }
                        if k >= chars.len() {
                            return Err(err(
                                start_line,
                                format!("`qw{open}` is not closed by `{close}`"),
                            ));
                        }
                        out.push(Token {
                            tok: Tok::Qw(body.split_whitespace().map(str::to_owned).collect()),
                            line: start_line,
                        });
                        i = k + 1;
                        continue;
                    }
                }
                out.push(Token {
                    tok: Tok::Word(word),
                    line,
                });
            }
            _ => {
                let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
                let (p, len) = match two.as_str() {
                    "->" => ("->", 2),
                    "=>" => ("=>", 2),
                    _ => match c {
                        '{' => ("{", 1),
                        '}' => ("}", 1),
                        '[' => ("[", 1),
                        ']' => ("]", 1),
                        '(' => ("(", 1),
                        ')' => (")", 1),
                        ',' => (",", 1),
                        ';' => (";", 1),
                        '=' => ("=", 1),
                        '@' => ("@", 1),
                        '-' => ("-", 1),
                        other => {
                            out.push(Token {
                                tok: Tok::Other(other),
                                line,
                            });
                            i += 1;
                            continue;
                        }
                    },
                };
                out.push(Token {
                    tok: Tok::P(p),
                    line,
                });
                i += len;
            }
        }
    }
    Ok(out)
}

/// A quoted string starting at `chars[i]`: its value, the index after it, and how many
/// newlines it spans. Double quotes: `\\`, `\"`, `\t`, `\n` and `\$`/`\@` escapes; an
/// unescaped `$` or `@` would interpolate and is refused.
fn quoted(
    chars: &[char],
    i: usize,
    line: u32,
    soft: &mut Vec<ConvertError>,
) -> Result<(String, usize, u32), ConvertError> {
    let q = chars[i];
    let mut s = String::new();
    let mut j = i + 1;
    let mut lines = 0;
    while j < chars.len() {
        let c = chars[j];
        match c {
            c if c == q => return Ok((s, j + 1, lines)),
            '\\' => {
                let Some(&n) = chars.get(j + 1) else { break };
                if q == '\'' {
                    // Single quotes: only `\\` and `\'` are escapes.
                    if n == '\\' || n == '\'' {
                        s.push(n);
                    } else {
                        s.push('\\');
                        s.push(n);
                    }
                } else {
                    match n {
                        '\\' | '"' | '$' | '@' => s.push(n),
                        't' => s.push('\t'),
                        'n' => s.push('\n'),
                        other => soft.push(err(
                            line + lines,
                            format!(
                                "the escape `\\{other}` in a double-quoted string is not \
                                 supported; use single quotes"
                            ),
                        )),
                    }
                }
                j += 2;
                continue;
            }
            '$' | '@' if q == '"' => {
                soft.push(err(
                    line + lines,
                    format!(
                        "`{c}` in a double-quoted string interpolates a Perl variable, whose value \
                         cannot be known without running Perl; write the text itself, or use \
                         single quotes"
                    ),
                ));
                s.push(c);
            }
            '\n' => {
                lines += 1;
                s.push(c);
            }
            _ => s.push(c),
        }
        j += 1;
    }
    Err(err(line, format!("a string opened with {q} is not closed")))
}
