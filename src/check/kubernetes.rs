//! Kubernetes rules (K8S…), over plain manifests and Kustomize trees.

use std::path::Path;

use super::yaml::Node;
use super::{Findings, Options, Rule};

pub static RULES: &[&Rule] = &[];

/// A YAML file that is not a CI or compose file: its documents may be Kubernetes objects,
/// Kustomizations or something else entirely.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub path: String,
    pub documents: Vec<Node>,
}

pub fn check(
    _root: &Path,
    _manifests: &[Manifest],
    _options: &Options,
    _out: &mut Findings,
    _notes: &mut Vec<String>,
) {
}
