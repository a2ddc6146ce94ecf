//! `check --drift`: managed files that differ from this version's templates.

use super::Rule;

pub static RULES: &[&Rule] = &[];
