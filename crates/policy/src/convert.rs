//! `gatehouse policy convert`: an EPrints `cfg.d/user_roles.pl` read as the small subset of
//! Perl those files use, and written as the equivalent `user_roles.yaml`, with a comment on
//! every entry saying where it came from (`file:line`).
//!
//! The subset: `$c->{roles}->{"name"} = [...]`, `$c->{user_roles}->{type} = [...]`,
//! `$c->{public_roles} = [...]`, and `push @{$c->{...}}, ...` onto any of them; strings in
//! either quote, `qw(...)` with any delimiter, `,` or `=>` between items, trailing commas,
//! `#` comments and POD; a statement ends with `;` or `,` (EPrints' own files chain
//! assignments with commas). Anything else is an error naming its line, never a guess: a
//! value computed by Perl cannot be known without running it.
//!
//! Two of EPrints' own pitfalls get their own errors: an unquoted key with a hyphen
//! (`{approve-hat}`, which Perl reads as `approve - hat`; the EPrints documentation warns
//! "eprints will generate an error if the text is simply {approve-hat}"), and a role's
//! privileges given in `user_roles` instead of `roles` ("Ensure the role is in {roles} not
//! {user_roles}!").
//!
//! Pure: text in, text out. A `push` onto a role or type the file does not define starts
//! from the built-in catalog's, as EPrints starts from its default configuration.

use std::fmt::{self, Write as _};

use crate::config::PolicyConfig;

/// A line of the Perl file that could not be converted, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertError {
    /// The line (1-based).
    pub line: u32,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Every problem found in a file, in line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertErrors(pub Vec<ConvertError>);

impl fmt::Display for ConvertErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConvertErrors {}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
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
struct Token {
    tok: Tok,
    line: u32,
}

fn err(line: u32, message: impl Into<String>) -> ConvertError {
    ConvertError {
        line,
        message: message.into(),
    }
}

/// Splits the file into tokens, dropping comments and POD. Problems inside a string go to
/// `soft` (the string is still a token); an unclosed string or `qw` ends reading.
fn tokenize(text: &str, soft: &mut Vec<ConvertError>) -> Result<Vec<Token>, ConvertError> {
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

/// Where a converted entry came from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Line(u32),
    BuiltIn,
}

#[derive(Debug, Clone)]
struct List {
    name: String,
    /// The statements that set or extended it, for its comment.
    history: Vec<String>,
    entries: Vec<(String, Source)>,
}

/// The three sections, in the order the file defines their members.
#[derive(Debug, Default)]
struct Converted {
    roles: Vec<List>,
    types: Vec<List>,
    public: Option<List>,
}

fn find<'a>(lists: &'a mut [List], name: &str) -> Option<&'a mut List> {
    lists.iter_mut().find(|l| l.name == name)
}

/// A statement read: its target, whether it pushes (rather than assigns), the items with
/// their lines, and its first line.
type Statement = (Target, bool, Vec<(String, u32)>, u32);

/// What a statement assigns to or pushes onto.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Role(String),
    Type(String),
    Public,
}

struct Parser<'a> {
    toks: &'a [Token],
    pos: usize,
    file: &'a str,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    fn line(&self) -> u32 {
        self.toks
            .get(self.pos)
            .or_else(|| self.toks.last())
            .map_or(1, |t| t.line)
    }

    fn next(&mut self) -> Option<&Token> {
        let t = self.toks.get(self.pos);
        self.pos += 1;
        t
    }

    fn eat(&mut self, p: &'static str) -> bool {
        if self.peek() == Some(&Tok::P(p)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, p: &'static str, context: &str) -> Result<(), ConvertError> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(err(
                self.line(),
                format!("expected `{p}` {context}, found {}", self.describe()),
            ))
        }
    }

    fn describe(&self) -> String {
        match self.peek() {
            None => "the end of the file".to_owned(),
            Some(Tok::Var(v)) => format!("`${v}`"),
            Some(Tok::Word(w)) => format!("`{w}`"),
            Some(Tok::Str(s)) => format!("the string `{s}`"),
            Some(Tok::Qw(_)) => "a `qw` list".to_owned(),
            Some(Tok::P(p)) => format!("`{p}`"),
            Some(Tok::Other(c)) => format!("`{c}`"),
        }
    }

    /// After an error: on to the token after the next `;`, or to the next `$c` or `push`
    /// at the start of a statement.
    fn skip_statement(&mut self) {
        self.pos += 1;
        while let Some(t) = self.peek() {
            let starts_line = self.toks[self.pos - 1].line < self.toks[self.pos].line;
            let starts_statement = match t {
                Tok::Var(v) => v == "c",
                Tok::Word(w) => w == "push",
                _ => false,
            };
            if starts_line && starts_statement {
                return;
            }
            let end = t == &Tok::P(";");
            self.pos += 1;
            if end {
                return;
            }
        }
    }

    /// `{key}`: a quoted string or a bare identifier.
    fn key(&mut self) -> Result<String, ConvertError> {
        let line = self.line();
        self.expect("{", "to open a hash key")?;
        let mut parts = Vec::new();
        while let Some(t) = self.peek() {
            if t == &Tok::P("}") {
                break;
            }
            parts.push(t.clone());
            self.pos += 1;
        }
        self.expect("}", "to close a hash key")?;
        match parts.as_slice() {
            [Tok::Str(s)] | [Tok::Word(s)] => Ok(s.clone()),
            [Tok::Word(first), rest @ ..]
                if !rest.is_empty()
                    && rest
                        .chunks(2)
                        .all(|p| matches!(p, [Tok::P("-"), Tok::Word(_)])) =>
            {
                let mut name = first.clone();
                for p in rest.chunks(2) {
                    if let [_, Tok::Word(w)] = p {
                        name.push('-');
                        name.push_str(w);
                    }
                }
                Err(err(
                    line,
                    format!(
                        "the key `{{{name}}}` must be quoted: write `{{\"{name}\"}}`; Perl reads \
                         the bare `{name}` as a subtraction, and EPrints fails on it (\"eprints \
                         will generate an error if the text is simply {{{name}}}\")"
                    ),
                ))
            }
            _ => Err(err(
                line,
                "a hash key must be a quoted string or a bare word; a computed key cannot be \
                 converted",
            )),
        }
    }

    /// `$c->{a}` or `$c->{a}->{b}` (the arrow between subscripts is optional).
    fn target(&mut self) -> Result<Target, ConvertError> {
        let line = self.line();
        match self.next().map(|t| t.tok.clone()) {
            Some(Tok::Var(v)) if v == "c" => {}
            Some(Tok::Var(v)) => {
                return Err(err(
                    line,
                    format!(
                        "only `$c` (the repository configuration) can be converted, not `${v}`"
                    ),
                ))
            }
            _ => return Err(err(line, "expected `$c->{...}`")),
        }
        self.expect("->", "after `$c`")?;
        let first = self.key()?;
        self.eat("->");
        let second = if self.peek() == Some(&Tok::P("{")) {
            Some(self.key()?)
        } else {
            None
        };
        match (first.as_str(), second) {
            ("roles", Some(name)) => Ok(Target::Role(name)),
            ("user_roles", Some(name)) => Ok(Target::Type(name)),
            ("public_roles", None) => Ok(Target::Public),
            ("roles" | "user_roles", None) => Err(err(
                line,
                format!(
                    "`$c->{{{first}}}` is assigned whole; give each one as \
                     `$c->{{{first}}}->{{\"name\"}} = [...]`"
                ),
            )),
            (other, _) => Err(err(
                line,
                format!(
                    "`$c->{{{other}}}` is not part of the roles configuration; only \
                     `$c->{{roles}}`, `$c->{{user_roles}}` and `$c->{{public_roles}}` can be \
                     converted (move other settings to another file)"
                ),
            )),
        }
    }

    /// Items up to (not including) `close`: strings and `qw` lists, separated by `,` or
    /// `=>`, trailing commas allowed.
    fn items(&mut self, close: Option<&'static str>) -> Result<Vec<(String, u32)>, ConvertError> {
        let mut out = Vec::new();
        loop {
            while self.eat(",") || self.eat("=>") {}
            match self.peek() {
                Some(Tok::P(p)) if Some(*p) == close => return Ok(out),
                Some(Tok::P(";")) | None if close.is_none() => return Ok(out),
                Some(Tok::Str(s)) => {
                    out.push((s.clone(), self.line()));
                    self.pos += 1;
                }
                Some(Tok::Qw(words)) => {
                    let line = self.line();
                    out.extend(words.iter().map(|w| (w.clone(), line)));
                    self.pos += 1;
                }
                Some(Tok::Word(w)) => {
                    return Err(err(
                        self.line(),
                        format!("the bare word `{w}` in a list: quote it (`'{w}'`)"),
                    ))
                }
                _ => {
                    return Err(err(
                        self.line(),
                        format!(
                            "expected a quoted string or `qw(...)` in the list, found {}; only \
                             literal lists can be converted",
                            self.describe()
                        ),
                    ))
                }
            }
            // After an item: a separator or the end.
            match self.peek() {
                Some(Tok::P(",")) | Some(Tok::P("=>")) => {}
                Some(Tok::P(p)) if Some(*p) == close => {}
                Some(Tok::P(";")) | None if close.is_none() => {}
                Some(Tok::P(")")) if close.is_none() => {}
                _ => {
                    return Err(err(
                        self.line(),
                        format!("expected `,` between list items, found {}", self.describe()),
                    ))
                }
            }
        }
    }

    /// `;` or `,` (EPrints chains assignments with commas), or the end of the file.
    fn end_statement(&mut self) -> Result<(), ConvertError> {
        if self.eat(";") || self.eat(",") || self.peek().is_none() {
            Ok(())
        } else {
            Err(err(
                self.line(),
                format!(
                    "expected `;` to end the statement, found {}",
                    self.describe()
                ),
            ))
        }
    }

    /// One statement: an assignment or a push.
    fn statement(&mut self) -> Result<Statement, ConvertError> {
        let line = self.line();
        match self.peek() {
            Some(Tok::Word(w)) if w == "push" => {
                self.pos += 1;
                let paren = self.eat("(");
                self.expect("@", "after `push` (`push @{$c->{...}}, ...`)")?;
                self.expect("{", "after `push @`")?;
                let target = self.target()?;
                self.expect("}", "to close `@{...}`")?;
                self.expect(",", "after the list pushed onto")?;
                let items = self.items(paren.then_some(")"))?;
                if paren {
                    self.expect(")", "to close `push(...)`")?;
                }
                self.end_statement()?;
                Ok((target, true, items, line))
            }
            Some(Tok::Var(_)) => {
                let target = self.target()?;
                self.expect("=", "after the key")?;
                self.expect("[", "to open the list (`= [ ... ]`)")?;
                let items = self.items(Some("]"))?;
                self.expect("]", "to close the list")?;
                self.end_statement()?;
                Ok((target, false, items, line))
            }
            _ => Err(err(
                line,
                format!(
                    "cannot read {} here: only `$c->{{roles}}->{{\"name\"}} = [...]`, \
                     `$c->{{user_roles}}->{{type}} = [...]`, `$c->{{public_roles}} = [...]` and \
                     `push @{{...}}, ...` can be converted",
                    self.describe()
                ),
            )),
        }
    }

    fn here(&self, line: u32) -> String {
        format!("{}:{line}", self.file)
    }
}

/// Whether a `user_roles` entry is a privilege rather than a role name or a `+`/`-` entry.
fn looks_like_privilege(entry: &str) -> bool {
    !entry.starts_with(['+', '-']) && (entry.contains('/') || entry.contains(':'))
}

fn apply(
    out: &mut Converted,
    target: Target,
    push: bool,
    items: Vec<(String, u32)>,
    here: String,
) -> Result<(), ConvertError> {
    let builtin = PolicyConfig::builtin();
    let entries: Vec<(String, Source)> = items
        .into_iter()
        .map(|(s, l)| (s, Source::Line(l)))
        .collect();
    let what = if push { "extended" } else { "set" };
    let (list, base): (&mut Vec<List>, Option<Vec<String>>) = match &target {
        Target::Role(name) => (
            &mut out.roles,
            builtin
                .roles()
                .iter()
                .find(|(n, _)| n.as_str() == name)
                .map(|(_, r)| r.entries.iter().map(ToString::to_string).collect()),
        ),
        Target::Type(name) => {
            if let Some((bad, bad_line)) = entries.iter().find_map(|(e, f)| match f {
                Source::Line(l) if looks_like_privilege(e) => Some((e.clone(), *l)),
                _ => None,
            }) {
                return Err(err(
                    bad_line,
                    format!(
                        "`{bad}` in `$c->{{user_roles}}->{{{name}}}` is a privilege, but \
                         user_roles lists the roles of a user type (and `+privilege` or \
                         `-privilege` entries); define the role in `$c->{{roles}}->{{\"{name}\"}}` \
                         instead, then name it in a user type (\"Ensure the role is in {{roles}} \
                         not {{user_roles}}!\")"
                    ),
                ));
            }
            (
                &mut out.types,
                builtin
                    .types()
                    .iter()
                    .find(|(n, _)| n.as_str() == name)
                    .map(|(_, t)| t.entries.iter().map(ToString::to_string).collect()),
            )
        }
        Target::Public => {
            let public = out.public.get_or_insert_with(|| List {
                name: "public_roles".to_owned(),
                history: Vec::new(),
                entries: if push {
                    builtin
                        .public()
                        .iter()
                        .filter(|p| p.from_public_roles)
                        .map(|p| (format!("+{}", p.privilege), Source::BuiltIn))
                        .collect()
                } else {
                    Vec::new()
                },
            });
            if !push {
                public.entries.clear();
            }
            public.history.push(format!("{what} at {here}"));
            public.entries.extend(entries);
            return Ok(());
        }
    };
    let name = match &target {
        Target::Role(n) | Target::Type(n) => n.clone(),
        Target::Public => String::new(),
    };
    match find(list, &name) {
        Some(l) => {
            if !push {
                l.entries.clear();
            }
            l.history.push(format!("{what} at {here}"));
            l.entries.extend(entries);
        }
        None => {
            let mut history = Vec::new();
            let mut start = Vec::new();
            if push {
                match base {
                    Some(b) => {
                        history.push("built in (EPrints 3.4.7 default)".to_owned());
                        start = b.into_iter().map(|e| (e, Source::BuiltIn)).collect();
                    }
                    None => history.push("new".to_owned()),
                }
            }
            history.push(format!("{what} at {here}"));
            start.extend(entries);
            list.push(List {
                name,
                history,
                entries: start,
            });
        }
    }
    Ok(())
}

/// A YAML scalar for a name or entry: plain when that is unambiguous, double-quoted
/// otherwise.
fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '/' | ':' | '.'))
        && !s.starts_with(['-', ':', '.'])
        && !s.ends_with(':')
        && !s.contains(": ")
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        )
        && s.parse::<f64>().is_err();
    if plain {
        s.to_owned()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| format!("\"{}\"", s.escape_default()))
    }
}

fn write_list(out: &mut String, l: &List, file: &str) {
    let _ = writeln!(out, "  # {}", l.history.join("; "));
    let _ = writeln!(out, "  {}:", scalar(&l.name));
    if l.entries.is_empty() {
        let _ = writeln!(out, "    []");
    }
    for (e, from) in &l.entries {
        let from = match from {
            Source::Line(n) => format!("{file}:{n}"),
            Source::BuiltIn => "built in".to_owned(),
        };
        let _ = writeln!(out, "    - {}  # {from}", scalar(e));
    }
}

/// Converts the text of a `user_roles.pl` (named `file` in comments and errors) into the
/// text of a `user_roles.yaml`. Every problem is reported, each naming its line.
pub fn convert_user_roles(text: &str, file: &str) -> Result<String, ConvertErrors> {
    let mut errors = Vec::new();
    let toks = tokenize(text, &mut errors).map_err(|e| {
        errors.push(e);
        ConvertErrors(errors.clone())
    })?;
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        file,
    };
    let mut converted = Converted::default();
    while p.peek().is_some() {
        if p.eat(";") {
            continue;
        }
        let start = p.pos;
        match p.statement() {
            Ok((target, push, items, line)) => {
                let here = p.here(line);
                if let Err(e) = apply(&mut converted, target, push, items, here) {
                    errors.push(e);
                }
            }
            Err(e) => {
                errors.push(e);
                p.pos = start;
                p.skip_statement();
            }
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(ConvertErrors(errors));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Converted from {file} by `gatehouse policy convert`; each entry names the line it\n\
         # came from. Roles and user types here replace the built-in ones of the same name.\n\
         # Check it with: gatehouse policy validate"
    );
    if !converted.roles.is_empty() {
        out.push_str("roles:\n");
        for l in &converted.roles {
            write_list(&mut out, l, file);
        }
    }
    if !converted.types.is_empty() {
        out.push_str("user_roles:\n");
        for l in &converted.types {
            write_list(&mut out, l, file);
        }
    }
    if let Some(public) = &converted.public {
        let _ = writeln!(out, "# {}", public.history.join("; "));
        if public.entries.is_empty() {
            out.push_str("public_roles: []\n");
        } else {
            out.push_str("public_roles:\n");
            for (e, from) in &public.entries {
                let from = match from {
                    Source::Line(n) => format!("{file}:{n}"),
                    Source::BuiltIn => "built in".to_owned(),
                };
                let _ = writeln!(out, "  - {}  # {from}", scalar(e));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
