//! A small YAML document tree that remembers the line of every node, so that validation
//! errors can point at `file:line`.
//!
//! Scalars are kept as text plus whether they were plain (unquoted); the readers decide what
//! a scalar means. That is how `users.yaml` accepts YAML 1.1 booleans (`yes`, `off`), as
//! InvenioRDM's PyYAML did, while everything else is read as YAML 1.2.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// One node of a YAML document, with the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// 1-based line number in the source.
    pub line: u32,
    /// What the node holds.
    pub kind: NodeKind,
}

/// The three YAML node kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A scalar as written; `plain` is false for quoted and block scalars.
    Scalar {
        /// The scalar text.
        text: String,
        /// Written without quotes.
        plain: bool,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Node, Node)>),
}

/// A document that is not YAML at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct YamlError {
    /// 1-based line.
    pub line: u32,
    /// The parser's message.
    pub message: String,
}

impl Node {
    /// Whether this is YAML null: an empty plain scalar, `~` or `null` in any usual case.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { text, plain: true }
            if text.is_empty() || text == "~" || text == "null" || text == "Null" || text == "NULL")
    }

    /// The scalar text, if this is a scalar that is not null.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } if !self.is_null() => Some(text),
            _ => None,
        }
    }

    /// A YAML 1.1 boolean (`true/false/yes/no/on/off`, any case), as PyYAML reads them.
    pub fn as_bool_yaml11(&self) -> Option<bool> {
        match &self.kind {
            NodeKind::Scalar { text, plain: true } => match text.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" => Some(true),
                "false" | "no" | "off" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The pairs, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(pairs) => Some(pairs),
            _ => None,
        }
    }

    /// What kind of node this is, in words for error messages.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar { .. } if self.is_null() => "nothing (null)",
            NodeKind::Scalar { .. } => "a single value",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }
}

/// Parses `text` into its first document; `Ok(None)` when there is no document at all
/// (an empty file, or comments only).
pub fn parse(text: &str) -> Result<Option<Node>, YamlError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, true).map_err(|e| YamlError {
        line: line_of(e.marker()),
        message: e.info().to_owned(),
    })?;
    if let Some(message) = builder.error {
        return Err(YamlError {
            line: builder.error_line,
            message,
        });
    }
    if builder.documents > 1 {
        return Err(YamlError {
            line: 1,
            message: "the file holds several YAML documents (`---`); keep one".into(),
        });
    }
    Ok(builder.done)
}

fn line_of(mark: &Marker) -> u32 {
    u32::try_from(mark.line()).unwrap_or(u32::MAX).max(1)
}

#[derive(Default)]
struct Builder {
    stack: Vec<(Node, usize)>,
    anchors: HashMap<usize, Node>,
    done: Option<Node>,
    documents: usize,
    error: Option<String>,
    error_line: u32,
}

impl Builder {
    fn push_value(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                if self.done.is_none() {
                    self.done = Some(node);
                }
            }
            Some((parent, _)) => match &mut parent.kind {
                NodeKind::Seq(items) => items.push(node),
                NodeKind::Map(pairs) => {
                    // Keys and values arrive alternately; a pending key has a placeholder
                    // value marked by `usize::MAX` line, filled by the next value.
                    match pairs.last_mut() {
                        Some((_, value)) if value.line == u32::MAX => *value = node,
                        _ => pairs.push((
                            node,
                            Node {
                                line: u32::MAX,
                                kind: NodeKind::Scalar {
                                    text: String::new(),
                                    plain: true,
                                },
                            },
                        )),
                    }
                }
                NodeKind::Scalar { .. } => {}
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = line_of(&mark);
        match ev {
            Event::DocumentStart => self.documents += 1,
            Event::Scalar(text, style, anchor, _tag) => {
                let plain = matches!(style, TScalarStyle::Plain);
                self.push_value(
                    Node {
                        line,
                        kind: NodeKind::Scalar { text, plain },
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => self.stack.push((
                Node {
                    line,
                    kind: NodeKind::Seq(Vec::new()),
                },
                anchor,
            )),
            Event::MappingStart(anchor, _) => self.stack.push((
                Node {
                    line,
                    kind: NodeKind::Map(Vec::new()),
                },
                anchor,
            )),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((node, anchor)) = self.stack.pop() {
                    self.push_value(node, anchor);
                }
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(mut node) => {
                    node.line = line;
                    self.push_value(node, 0);
                }
                None if self.error.is_none() => {
                    self.error = Some("an alias (`*name`) refers to an unknown anchor".into());
                    self.error_line = line;
                }
                None => {}
            },
            _ => {}
        }
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    fn must(text: &str) -> Node {
        match parse(text) {
            Ok(Some(n)) => n,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lines_and_kinds() {
        let doc = must("# comment\nroles:\n  approve-hat:\n    - eprint/buffer/view:editor\n    - \"quoted\"\n");
        let map = doc.as_map().unwrap_or_default();
        assert_eq!(map.len(), 1);
        assert_eq!(map[0].0.as_str(), Some("roles"));
        assert_eq!(map[0].0.line, 2);
        let roles = map[0].1.as_map().unwrap_or_default();
        assert_eq!(roles[0].0.line, 3);
        let items = roles[0].1.as_seq().unwrap_or_default();
        assert_eq!(items[0].line, 4);
        assert_eq!(items[1].line, 5);
        assert_eq!(
            items[1].kind,
            NodeKind::Scalar {
                text: "quoted".into(),
                plain: false
            }
        );
    }

    #[test]
    fn empty_and_comment_only_have_no_document() {
        assert_eq!(parse(""), Ok(None));
        assert_eq!(parse("# nothing here\n"), Ok(None));
        assert!(matches!(parse("[]"), Ok(Some(n)) if n.as_seq() == Some(&[][..])));
    }

    #[test]
    fn yaml11_booleans_and_nulls() {
        let doc = must("a: yes\nb: Off\nc: \"yes\"\nd:\ne: ~\nf: TRUE\n");
        let map = doc.as_map().unwrap_or_default();
        let v: Vec<_> = map.iter().map(|(_, v)| v.as_bool_yaml11()).collect();
        assert_eq!(
            v,
            vec![Some(true), Some(false), None, None, None, Some(true)]
        );
        assert!(map[3].1.is_null());
        assert!(map[4].1.is_null());
        assert!(!map[2].1.is_null());
    }

    #[test]
    fn anchors_and_syntax_errors() {
        let doc = must("a: &x [1, 2]\nb: *x\n");
        let map = doc.as_map().unwrap_or_default();
        assert_eq!(map[1].1.as_seq().map(<[Node]>::len), Some(2));
        let err = parse("a: [1, 2\nb: c\n");
        assert!(err.is_err());
    }
}
