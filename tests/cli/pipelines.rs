//! The CI files of every combination that changes them: each CI system with every language,
//! every cloud and each registry that fits it, and every rollout strategy (the GitOps engine
//! alternates). Only the CI files are written (`.github/`, `.gitlab-ci.yml`, `.gitlab/` and the
//! shared `ci/` scripts), and each validator runs once over all of them: actionlint and zizmor
//! (GitHub Actions), check-jsonschema with GitLab's CI schema (GitLab CI), checkov for both,
//! shellcheck over the scripts. The full scaffolds of a few of these are in validators.rs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_fs::TempDir;
use infra_new::options::{Choice, Ci, Cloud, Gitops, Language, Registry, Rollout};

use crate::snapshots::tree_with;
use crate::validators::{check, checkov_run, tool};

fn is_ci_file(path: &str) -> bool {
    path.starts_with(".github/")
        || path == ".gitlab-ci.yml"
        || path.starts_with(".gitlab/")
        || path.starts_with("ci/")
}

/// `(name, answers)` for every combination, in a stable order.
fn combinations() -> Vec<(String, Vec<(&'static str, &'static str)>)> {
    let mut sets = Vec::new();
    for ci in Ci::ALL {
        for language in Language::ALL {
            for cloud in Cloud::ALL {
                for registry in Registry::fitting(*cloud, *ci) {
                    for rollout in Rollout::ALL {
                        let gitops = Gitops::ALL[sets.len() % Gitops::ALL.len()];
                        sets.push((
                            format!("{ci}-{language}-{cloud}-{registry}-{rollout}"),
                            vec![
                                ("ci", ci.id()),
                                ("language", language.id()),
                                ("cloud", cloud.id()),
                                ("registry", registry.id()),
                                ("rollout", rollout.id()),
                                ("gitops", gitops.id()),
                            ],
                        ));
                    }
                }
            }
        }
    }
    sets
}

/// Paths under `root` (relative to it) of the files `pred` selects, in every combination.
fn files_under(root: &Path, pred: impl Fn(&str) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    for combo in std::fs::read_dir(root).unwrap() {
        let combo = combo.unwrap().file_name().into_string().unwrap();
        let tree = crate::support::read_tree(&root.join(&combo));
        out.extend(
            tree.keys()
                .filter(|p| pred(p))
                .map(|p| format!("{combo}/{p}")),
        );
    }
    out.sort();
    out
}

#[test]
fn every_combination_has_valid_pipelines() {
    let sets = combinations();
    // GitHub: 3 clouds x 3 registries; GitLab: 3 clouds x 2 (GHCR needs GitHub Actions).
    let per_language_and_rollout = 9 + 6;
    assert_eq!(
        sets.len(),
        Language::ALL.len() * Rollout::ALL.len() * per_language_and_rollout
    );

    let work = TempDir::new().unwrap();
    let github = work.path().join("github");
    let gitlab = work.path().join("gitlab");
    for (name, answers) in &sets {
        let tree = tree_with("default", answers);
        let is_gitlab = answers.contains(&("ci", "gitlab"));
        let root = if is_gitlab { &gitlab } else { &github }.join(name);
        crate::validators::write_tree(&root, &tree, is_ci_file);
        // Each CI system's files, and only those.
        assert_eq!(tree.contains_key(".gitlab-ci.yml"), is_gitlab, "{name}");
        assert_eq!(
            tree.keys().any(|p| p.starts_with(".github/workflows/")),
            !is_gitlab,
            "{name}"
        );
    }

    let workflows = files_under(&github, |p| {
        p.starts_with(".github/workflows/") && p.ends_with(".yml")
    });
    let gitlab_files = files_under(&gitlab, |p| {
        p == ".gitlab-ci.yml" || (p.starts_with(".gitlab/ci/") && p.ends_with(".yml"))
    });
    assert!(workflows.len() >= 3 * 135, "{}", workflows.len());
    assert!(gitlab_files.len() >= 90, "{}", gitlab_files.len());

    if let (Some(actionlint), Some(_)) = (tool("actionlint"), tool("shellcheck")) {
        check(
            "actionlint",
            "every combination",
            Command::new(actionlint)
                .arg("-no-color")
                .args(&workflows)
                .current_dir(&github),
        );
    }
    if let Some(zizmor) = tool("zizmor") {
        let dirs: Vec<String> = std::fs::read_dir(&github)
            .unwrap()
            .map(|d| d.unwrap().file_name().into_string().unwrap())
            .collect();
        check(
            "zizmor",
            "every combination",
            Command::new(zizmor)
                .args(["--offline", "--no-progress", "--persona", "pedantic"])
                .args(&dirs)
                .current_dir(&github),
        );
    }
    if let Some(cjs) = tool("check-jsonschema") {
        check(
            "check-jsonschema (GitLab CI)",
            "every combination",
            Command::new(cjs)
                .args(["--builtin-schema", "vendor.gitlab-ci"])
                .args(&gitlab_files)
                .current_dir(&gitlab),
        );
    }
    // The scripts source ci/lib.sh relative to the repository root, so shellcheck runs in one
    // scaffold per distinct set of scripts.
    if let Some(shellcheck) = tool("shellcheck") {
        let mut distinct: BTreeMap<Vec<(String, Vec<u8>)>, PathBuf> = BTreeMap::new();
        for side in [&github, &gitlab] {
            for combo in std::fs::read_dir(side).unwrap() {
                let root = combo.unwrap().path();
                let scripts: Vec<(String, Vec<u8>)> = crate::support::read_tree(&root)
                    .into_iter()
                    .filter(|(p, _)| p.ends_with(".sh"))
                    .collect();
                assert!(!scripts.is_empty(), "{}", root.display());
                distinct.entry(scripts).or_insert(root);
            }
        }
        for (scripts, root) in &distinct {
            check(
                "shellcheck",
                &root.display().to_string(),
                Command::new(&shellcheck)
                    .args(scripts.iter().map(|(p, _)| p))
                    .current_dir(root),
            );
        }
    }
    if let Some(checkov) = tool("checkov") {
        checkov_run(&checkov, "every combination", &github, "github_actions");
        checkov_run(&checkov, "every combination", &gitlab, "gitlab_ci");
    }
}
