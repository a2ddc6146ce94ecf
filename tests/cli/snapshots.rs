//! One snapshot per scaffold covering the whole rendered tree (review with `cargo insta review`).
//! The scaffolds are every preset plus the default preset with each other pairing of rollout
//! strategy and GitOps engine, so that every template branch is in some snapshot and in the
//! validator runs (validators.rs).

use infra_new::presets;
use infra_new::render::{Tree, render};

/// Scaffolds beyond the presets: `(name, rollout, gitops)`, all from the default preset. The
/// presets themselves use rolling updates and Argo CD.
const VARIANTS: &[(&str, &str, &str)] = &[
    ("rolling-flux", "rolling", "flux"),
    ("blue-green-argocd", "blue-green", "argocd"),
    ("blue-green-flux", "blue-green", "flux"),
    ("canary-argocd", "canary", "argocd"),
    ("canary-flux", "canary", "flux"),
];

/// The answers every scaffold in the tests is rendered with, besides its preset's.
const COMMON: &[(&str, &str)] = &[
    ("name", "checkout"),
    ("org", "acme"),
    ("account", "111122223333"),
    ("team", "payments"),
];

/// Every scaffold name: the presets, then the variants. `INFRA_NEW_PRESETS=a,b` (comma-separated)
/// keeps only those, for a quicker local run.
pub fn scaffold_names() -> Vec<String> {
    let only = std::env::var("INFRA_NEW_PRESETS").ok();
    presets::all()
        .into_iter()
        .map(|p| p.name)
        .chain(VARIANTS.iter().map(|(n, _, _)| n.to_string()))
        .filter(|n| {
            only.as_deref()
                .is_none_or(|o| o.split(',').any(|x| x.trim() == n))
        })
        .collect()
}

/// Whether the scaffold is a preset (the language checks run on presets only).
pub fn is_preset(name: &str) -> bool {
    !VARIANTS.iter().any(|(n, _, _)| *n == name)
}

/// The rendered tree of a scaffold named by `scaffold_names`.
pub fn scaffold_tree(name: &str) -> Tree {
    match VARIANTS.iter().find(|(n, _, _)| *n == name) {
        Some((_, rollout, gitops)) => {
            tree_with("default", &[("rollout", rollout), ("gitops", gitops)])
        }
        None => tree_with(name, &[]),
    }
}

/// `preset` rendered with the `COMMON` answers and then `overrides`.
pub fn tree_with(preset: &str, overrides: &[(&str, &str)]) -> Tree {
    let answers: Vec<(&str, &str)> = COMMON.iter().chain(overrides).copied().collect();
    render(&presets::answers(preset, &answers).unwrap()).unwrap()
}

/// The whole tree as one text: a header line per file, then its contents.
fn flatten(tree: &Tree) -> String {
    let mut out = String::new();
    for (path, bytes) in tree {
        out.push_str(&format!("==> {path} ({} bytes) <==\n", bytes.len()));
        match std::str::from_utf8(bytes) {
            Ok(text) => out.push_str(text),
            Err(_) => out.push_str("<binary>\n"),
        }
        if !out.ends_with('\n') {
            out.push_str("\n<no newline at end of file>\n");
        }
    }
    out
}

#[test]
fn every_scaffold_matches_its_snapshot() {
    for name in scaffold_names() {
        let tree = scaffold_tree(&name);
        insta::with_settings!({ snapshot_suffix => name.clone(), prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("tree", flatten(&tree));
        });
    }
}
