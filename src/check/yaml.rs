//! YAML with line numbers: every node remembers the line it starts on, so a finding can point
//! at the key or list item it is about. Built on yaml-rust2's event parser; aliases are resolved
//! to copies of their anchored node (GitLab CI leans on anchors), merge keys (`<<`) are kept as
//! ordinary keys and looked through by [`Node::get`].

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// One YAML node and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub line: usize,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar as written; `quoted` is false for plain scalars, which YAML may read as null,
    /// booleans or numbers.
    Scalar {
        text: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    /// Keys in document order.
    Map(Vec<(Node, Node)>),
}

/// A document that did not parse: the 1-based line (when the parser knew it) and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: Option<usize>,
    pub message: String,
}

/// Parses every document of a YAML stream. Empty documents (a lone `---`) are left out.
pub fn parse(text: &str) -> Result<Vec<Node>, SyntaxError> {
    let mut builder = Builder::default();
    Parser::new_from_str(text)
        .load(&mut builder, true)
        .map_err(|error| SyntaxError {
            line: Some(error.marker().line()),
            message: error.info().to_owned(),
        })?;
    Ok(builder.documents)
}

impl Node {
    /// The scalar's text, if this is a scalar that is not null.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, quoted } if *quoted || !is_null(text) => Some(text),
            _ => None,
        }
    }

    /// True for a plain `true` (any YAML 1.1/1.2 spelling Kubernetes accepts).
    pub fn is_true(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, quoted: false } if matches!(text.as_str(), "true" | "True" | "TRUE"))
    }

    /// True for a plain `false`.
    pub fn is_false(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, quoted: false } if matches!(text.as_str(), "false" | "False" | "FALSE"))
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, quoted: false } if is_null(text))
    }

    /// A mapping's value for `key`, looking through `<<` merge keys (the mapping's own keys win).
    pub fn get(&self, key: &str) -> Option<&Node> {
        let Value::Map(entries) = &self.value else {
            return None;
        };
        entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
            .or_else(|| {
                entries
                    .iter()
                    .filter(|(k, _)| k.as_str() == Some("<<"))
                    .find_map(|(_, merged)| match &merged.value {
                        Value::Seq(items) => items.iter().find_map(|item| item.get(key)),
                        _ => merged.get(key),
                    })
            })
    }

    /// Follows a path of keys.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    /// The key/value pairs of a mapping (empty for anything else), merge keys left out.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Node)> {
        let entries: &[(Node, Node)] = match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        };
        entries
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?, v)))
            .filter(|(k, _)| *k != "<<")
    }

    /// The items of a sequence (empty for anything else).
    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// Collects events into nodes. Open collections wait on `stack`; a finished node goes to its
/// parent (or becomes a document).
#[derive(Default)]
struct Builder {
    documents: Vec<Node>,
    stack: Vec<(Node, usize)>,
    /// A mapping's pending key, per open mapping (parallel to `stack`).
    keys: Vec<Option<Node>>,
    anchors: HashMap<usize, Node>,
}

impl Builder {
    fn finish(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let Some((parent, _)) = self.stack.last_mut() else {
            if !node.is_null() {
                self.documents.push(node);
            }
            return;
        };
        match &mut parent.value {
            Value::Seq(items) => items.push(node),
            Value::Map(entries) => {
                let key = self.keys.last_mut().expect("a key slot per open mapping");
                match key.take() {
                    Some(k) => entries.push((k, node)),
                    None => *key = Some(node),
                }
            }
            Value::Scalar { .. } => unreachable!("scalars are never open"),
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let line = mark.line();
        match event {
            Event::Scalar(text, style, anchor, _) => {
                let quoted = !matches!(style, TScalarStyle::Plain);
                self.finish(
                    Node {
                        line,
                        value: Value::Scalar { text, quoted },
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => {
                self.stack.push((
                    Node {
                        line,
                        value: Value::Seq(Vec::new()),
                    },
                    anchor,
                ));
                self.keys.push(None);
            }
            Event::MappingStart(anchor, _) => {
                self.stack.push((
                    Node {
                        line,
                        value: Value::Map(Vec::new()),
                    },
                    anchor,
                ));
                self.keys.push(None);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                self.keys.pop();
                if let Some((node, anchor)) = self.stack.pop() {
                    self.finish(node, anchor);
                }
            }
            Event::Alias(anchor) => {
                let node = self.anchors.get(&anchor).cloned().unwrap_or(Node {
                    line,
                    value: Value::Scalar {
                        text: String::new(),
                        quoted: false,
                    },
                });
                self.finish(node, 0);
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_carry_their_lines_across_documents() {
        let docs = parse("a: 1\nb:\n  - x\n  - y: 2\n---\n---\nkind: Pod\n").unwrap();
        assert_eq!(docs.len(), 2, "the empty document is left out");
        assert_eq!(docs[0].get("a").unwrap().line, 1);
        let b = docs[0].get("b").unwrap();
        assert_eq!(b.items()[0].line, 3);
        assert_eq!(b.items()[1].get("y").unwrap().line, 4);
        assert_eq!(docs[1].get("kind").unwrap().as_str(), Some("Pod"));
        assert_eq!(docs[1].get("kind").unwrap().line, 7);
    }

    #[test]
    fn aliases_and_merge_keys_resolve() {
        let docs =
            parse(".base: &base\n  image: alpine:3\n  tags: [x]\njob:\n  <<: *base\n  tags: [y]\n")
                .unwrap();
        let job = docs[0].get("job").unwrap();
        assert_eq!(job.get("image").unwrap().as_str(), Some("alpine:3"));
        assert_eq!(
            job.get("tags").unwrap().items()[0].as_str(),
            Some("y"),
            "own keys win over merged ones"
        );
        assert_eq!(job.entries().map(|(k, _)| k).collect::<Vec<_>>(), ["tags"]);
    }

    #[test]
    fn scalars_keep_their_type_cues() {
        let docs = parse("a: true\nb: \"true\"\nc: ~\nd: ''\n").unwrap();
        assert!(docs[0].get("a").unwrap().is_true());
        assert!(!docs[0].get("b").unwrap().is_true());
        assert_eq!(docs[0].get("c").unwrap().as_str(), None);
        assert_eq!(docs[0].get("d").unwrap().as_str(), Some(""));
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let error = parse("a: 1\nb: [unclosed\nc: 2\n").unwrap_err();
        assert!(error.line.is_some(), "{error:?}");
        assert!(!error.message.is_empty());
    }
}
