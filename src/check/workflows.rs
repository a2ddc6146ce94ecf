//! CI rules (CI…): GitHub Actions workflows and GitLab CI files.

use super::yaml::Node;
use super::{Findings, Rule, Source};

pub static RULES: &[&Rule] = &[];

pub fn check_github(_file: &Source, _documents: &[Node], _out: &mut Findings) {}

pub fn check_gitlab(_file: &Source, _documents: &[Node], _out: &mut Findings) {}
