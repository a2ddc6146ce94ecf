//! One snapshot per scaffold covering the whole rendered tree (review with `cargo insta review`).
//! The scaffolds are every preset plus variants of the default preset (every other pairing of
//! rollout strategy and GitOps engine, every cloud with its own and a cloud-neutral registry), so
//! that every template branch is in some snapshot and in the validator runs (validators.rs).

use infra_new::presets;
use infra_new::render::{Tree, render};

/// Scaffolds beyond the presets, all from the default preset: `(name, answers)`. The presets
/// themselves use AWS, GHCR, rolling updates, GitHub Actions and Argo CD; these cover every other
/// rollout and GitOps pairing, each cloud with its own registry and with a cloud-neutral one, and
/// GitLab CI on each cloud.
const VARIANTS: &[(&str, &[(&str, &str)])] = &[
    ("rolling-flux", &[("gitops", "flux")]),
    ("blue-green-argocd", &[("rollout", "blue-green")]),
    (
        "blue-green-flux",
        &[("rollout", "blue-green"), ("gitops", "flux")],
    ),
    ("canary-argocd", &[("rollout", "canary")]),
    ("canary-flux", &[("rollout", "canary"), ("gitops", "flux")]),
    ("aws-ecr", &[("registry", "ecr"), ("rollout", "canary")]),
    ("aws-dockerhub", &[("registry", "dockerhub")]),
    (
        "gcp-gar",
        &[GCP, ("registry", "gar"), ("rollout", "blue-green")],
    ),
    ("gcp-ghcr", &[GCP, ("registry", "ghcr"), ("gitops", "flux")]),
    (
        "azure-acr",
        &[
            AZURE,
            ("registry", "acr"),
            ("rollout", "canary"),
            ("gitops", "flux"),
        ],
    ),
    ("azure-dockerhub", &[AZURE, ("registry", "dockerhub")]),
    ("gitlab-aws-ecr", &[GITLAB, ("registry", "ecr")]),
    (
        "gitlab-gcp-gar",
        &[GCP, GITLAB, ("registry", "gar"), ("rollout", "canary")],
    ),
    (
        "gitlab-azure-dockerhub",
        &[
            AZURE,
            GITLAB,
            ("registry", "dockerhub"),
            ("rollout", "blue-green"),
            ("gitops", "flux"),
        ],
    ),
];

const GCP: (&str, &str) = ("cloud", "gcp");
const AZURE: (&str, &str) = ("cloud", "azure");
const GITLAB: (&str, &str) = ("ci", "gitlab");

/// The answers that name the cloud account (and on Azure the tenant) for a cloud's scaffolds.
fn account_for(cloud: &str) -> &'static [(&'static str, &'static str)] {
    match cloud {
        "gcp" => &[("account", "acme-checkout")],
        "azure" => &[
            ("account", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"),
            ("tenant", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"),
        ],
        _ => &[("account", "111122223333")],
    }
}

/// The answers every scaffold in the tests is rendered with, besides its preset's.
const COMMON: &[(&str, &str)] = &[("name", "checkout"), ("org", "acme"), ("team", "payments")];

/// Every scaffold name: the presets, then the variants. `INFRA_NEW_PRESETS=a,b` (comma-separated)
/// keeps only those, for a quicker local run.
pub fn scaffold_names() -> Vec<String> {
    let only = std::env::var("INFRA_NEW_PRESETS").ok();
    presets::all()
        .into_iter()
        .map(|p| p.name)
        .chain(VARIANTS.iter().map(|(n, _)| n.to_string()))
        .filter(|n| {
            only.as_deref()
                .is_none_or(|o| o.split(',').any(|x| x.trim() == n))
        })
        .collect()
}

/// Whether the scaffold is a preset (the language checks run on presets only).
pub fn is_preset(name: &str) -> bool {
    !VARIANTS.iter().any(|(n, _)| *n == name)
}

/// The rendered tree of a scaffold named by `scaffold_names`.
pub fn scaffold_tree(name: &str) -> Tree {
    match VARIANTS.iter().find(|(n, _)| *n == name) {
        Some((_, answers)) => tree_with("default", answers),
        None => tree_with(name, &[]),
    }
}

/// `preset` rendered with the `COMMON` answers, the cloud's account, and then `overrides`.
pub fn tree_with(preset: &str, overrides: &[(&str, &str)]) -> Tree {
    let cloud = overrides
        .iter()
        .find(|(k, _)| *k == "cloud")
        .map_or("aws", |(_, v)| *v);
    let answers: Vec<(&str, &str)> = COMMON
        .iter()
        .chain(account_for(cloud))
        .chain(overrides)
        .copied()
        .collect();
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
