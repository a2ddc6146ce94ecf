//! Compose file rules (CMP…).

use super::yaml::Node;
use super::{Findings, Rule, Source};

pub static RULES: &[&Rule] = &[];

pub fn check(_file: &Source, _documents: &[Node], _out: &mut Findings) {}
