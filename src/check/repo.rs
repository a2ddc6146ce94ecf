//! Repository-wide rules: secrets in any text file (SEC…), lockfiles beside build manifests
//! (LCK…).

use super::{Findings, Repo, Rule, Source};

pub static RULES: &[&Rule] = &[];

pub fn secrets(_file: &Source, _out: &mut Findings) {}

pub fn lockfiles(_repo: &Repo, _out: &mut Findings) {}
