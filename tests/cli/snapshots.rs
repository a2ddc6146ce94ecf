//! One snapshot per preset covering the whole rendered tree (review with `cargo insta review`).

use infra_new::presets;
use infra_new::render::{Tree, render};

/// Every preset is rendered with these answers in snapshots and validator runs.
pub fn preset_tree(preset: &str) -> Tree {
    let answers = presets::answers(
        preset,
        &[
            ("name", "checkout"),
            ("org", "acme"),
            ("account", "111122223333"),
            ("team", "payments"),
        ],
    )
    .unwrap();
    render(&answers).unwrap()
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
fn every_preset_matches_its_snapshot() {
    for preset in crate::validators::selected_presets() {
        let tree = preset_tree(&preset.name);
        insta::with_settings!({ snapshot_suffix => preset.name.clone(), prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("tree", flatten(&tree));
        });
    }
}
