#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};
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

/// A document that could not be read: not YAML, or over a limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct YamlError {
    /// 1-based line.
    pub line: u32,
    /// What is wrong, with a hint.
    pub message: String,
}

/// How much a document may ask of the reader. The defaults hold every real configuration
/// file (the EPrints catalog is 1,000 nodes; a users.yaml of 100,000 users is 2 million
/// nodes and 10 MB) and refuse what only an attack needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of lists and mappings (the top level is depth 1).
    pub max_depth: usize,
    /// Nodes that alias expansions may add in all (each `*name` adds the anchored subtree).
    pub max_alias_nodes: usize,
    /// Largest document, in bytes.
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 64,
            max_alias_nodes: 100_000,
            max_bytes: 256 * 1024 * 1024,
        }
    }
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

/// Parses `text` into its first document with the default [`Limits`]; `Ok(None)` when there
/// is no document at all (an empty file, or comments only).
pub fn parse(text: &str) -> Result<Option<Node>, YamlError> {
    parse_with(text, Limits::default())
}

/// Parses `text` within `limits`.
///
/// The parser's events are read one at a time (never through a recursive loader), the
/// nesting depth is checked when a list or mapping opens, and every alias counts the size
/// of the subtree it copies against the budget before copying it; so neither the stack nor
/// the heap grows with what the document merely claims.
pub fn parse_with(text: &str, limits: Limits) -> Result<Option<Node>, YamlError> {
    if text.len() > limits.max_bytes {
        return Err(YamlError {
            line: 1,
            message: format!(
                "the file has {} bytes, more than the {} this reader accepts",
                text.len(),
                limits.max_bytes
            ),
        });
    }
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder {
        limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        done: None,
        documents: 0,
        alias_nodes: 0,
    };
    loop {
        let (event, mark) = parser.next_token().map_err(|e| YamlError {
            line: line_of(e.marker()),
            message: e.info().to_owned(),
        })?;
        if event == Event::StreamEnd {
            break;
        }
        builder.on_event(event, &mark)?;
    }
    if builder.documents > 1 {
        return Err(YamlError {
            line: 1,
            message: "the file holds several YAML documents (`---`); keep one".into(),
        });
    }
    Ok(builder.done.map(|(node, _)| node))
}

fn line_of(mark: &Marker) -> u32 {
    u32::try_from(mark.line()).unwrap_or(u32::MAX).max(1)
}

/// A list or mapping being built: the node, its anchor, the nodes in it so far (itself
/// included), and for a mapping the key waiting for its value.
struct Frame {
    node: Node,
    anchor: usize,
    size: usize,
    key: Option<Node>,
}

struct Builder {
    limits: Limits,
    stack: Vec<Frame>,
    /// Anchored subtrees with their node counts.
    anchors: HashMap<usize, (Node, usize)>,
    done: Option<(Node, usize)>,
    documents: usize,
    alias_nodes: usize,
}

impl Builder {
    fn on_event(&mut self, event: Event, mark: &Marker) -> Result<(), YamlError> {
        let line = line_of(mark);
        match event {
            Event::DocumentStart => self.documents += 1,
            Event::Scalar(text, style, anchor, _tag) => {
                let plain = matches!(style, TScalarStyle::Plain);
                let node = Node {
                    line,
                    kind: NodeKind::Scalar { text, plain },
                };
                self.push_value(node, 1, anchor);
            }
            Event::SequenceStart(anchor, _) => {
                self.open(line, anchor, NodeKind::Seq(Vec::new()))?
            }
            Event::MappingStart(anchor, _) => self.open(line, anchor, NodeKind::Map(Vec::new()))?,
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(frame) = self.stack.pop() {
                    self.push_value(frame.node, frame.size, frame.anchor);
                }
            }
            Event::Alias(id) => {
                let Some((node, size)) = self.anchors.get(&id) else {
                    return Err(YamlError {
                        line,
                        message: "an alias (`*name`) refers to an unknown anchor".into(),
                    });
                };
                let size = *size;
                self.alias_nodes = self.alias_nodes.saturating_add(size);
                if self.alias_nodes > self.limits.max_alias_nodes {
                    return Err(YamlError {
                        line,
                        message: format!(
                            "aliases (`*name`) would expand to more than {} nodes; write the \
                             values out instead of repeating anchors",
                            self.limits.max_alias_nodes
                        ),
                    });
                }
                let mut node = node.clone();
                node.line = line;
                self.push_value(node, size, 0);
            }
            _ => {}
        }
        Ok(())
    }

    fn open(&mut self, line: u32, anchor: usize, kind: NodeKind) -> Result<(), YamlError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(YamlError {
                line,
                message: format!(
                    "lists and mappings are nested more than {} deep",
                    self.limits.max_depth
                ),
            });
        }
        self.stack.push(Frame {
            node: Node { line, kind },
            anchor,
            size: 1,
            key: None,
        });
        Ok(())
    }

    fn push_value(&mut self, node: Node, size: usize, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        let Some(frame) = self.stack.last_mut() else {
            if self.done.is_none() {
                self.done = Some((node, size));
            }
            return;
        };
        frame.size = frame.size.saturating_add(size);
        match &mut frame.node.kind {
            NodeKind::Seq(items) => items.push(node),
            NodeKind::Map(pairs) => match frame.key.take() {
                Some(key) => pairs.push((key, node)),
                None => frame.key = Some(node),
            },
            NodeKind::Scalar { .. } => {}
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
        assert_eq!(map[1].1.line, 2);
        assert!(parse("a: [1, 2\nb: c\n").is_err());
        let unknown = parse("a: *nowhere\n");
        assert!(unknown.is_err(), "{unknown:?}");
        assert!(parse("a: 1\n---\nb: 2\n").is_err_and(|e| e.message.contains("several")));
    }

    #[test]
    fn mapping_keys_and_values_pair_up() {
        let doc = must("a: 1\nb:\nc: [x]\n");
        let map = doc.as_map().unwrap_or_default();
        let keys: Vec<_> = map.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, vec![Some("a"), Some("b"), Some("c")]);
        assert!(map[1].1.is_null());
        assert_eq!(map[2].1.as_seq().map(<[Node]>::len), Some(1));
    }

    #[test]
    fn alias_bomb_is_refused_quickly() {
        // Each level repeats the previous one ten times: 10^9 scalars if expanded.
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let prev = format!("*a{}", i - 1);
            let list = [prev.as_str(); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{list}]\n"));
        }
        let err = parse(&text);
        assert!(
            err.as_ref()
                .is_err_and(|e| e.message.contains("more than 100000 nodes")),
            "{err:?}"
        );
        // A handful of aliases is fine.
        assert!(parse("a: &x [1, 2]\nb: [*x, *x, *x]\n").is_ok());
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        // The scanner's own recursion limit or ours, whichever comes first: refused either
        // way, without the stack overflowing.
        let deep = format!("{}{}", "[".repeat(30_000), "]".repeat(30_000));
        let err = parse(&deep);
        assert!(
            err.as_ref()
                .is_err_and(|e| e.message.contains("nested more than 64 deep")
                    || e.message.contains("recursion limit")),
            "{err:?}"
        );
        let block: String = (0..10_000)
            .map(|i| format!("{}- \n", " ".repeat(i * 2)))
            .collect();
        assert!(parse(&block).is_err());
        let ok = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn size_limit() {
        let limits = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        assert!(parse_with("a: 1234567890\n", limits).is_err_and(|e| e.message.contains("bytes")));
    }
}
