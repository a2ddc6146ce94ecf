//! Conformance: every scaffold (the presets and the rollout × GitOps variants of snapshots.rs) is
//! run through the real third-party validators, and the Kubernetes delivery of every language ×
//! rollout × GitOps combination is built and validated. Any finding fails. The validators are
//! installed by `.ci/install-validators` (the README's test command runs it); with
//! `INFRA_NEW_REQUIRE_VALIDATORS=1` (set by that command and in CI) a missing validator fails the
//! run, otherwise it is reported as skipped.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use assert_fs::TempDir;
use infra_new::options::{Choice, Ci, Cloud, Gitops, Language, Registry, Rollout};

use crate::snapshots::{is_preset, scaffold_names, scaffold_tree, tree_with};

/// The inline skips each preset carries, by marker. Every skip states its reason (checked below);
/// changing a template's skips means changing this table, on purpose.
const EXPECTED_SKIPS: &[(&str, &[(&str, usize)])] = &[
    // Every preset (AWS) carries the same seven: Terraform state bucket access logs, replication
    // and events, and secret rotation (4); the rollback workflow's dispatch inputs (1); the
    // Deployment's initial tag before CI pins a digest, and its pull policy (2). The languages add
    // none of their own.
    ("default", SHARED_SKIPS),
    ("node", SHARED_SKIPS),
    ("python", SHARED_SKIPS),
    ("rust", SHARED_SKIPS),
    ("java", SHARED_SKIPS),
    // The rollout strategies and GitOps engines add none either.
    ("rolling-flux", SHARED_SKIPS),
    ("blue-green-argocd", SHARED_SKIPS),
    ("blue-green-flux", SHARED_SKIPS),
    ("canary-argocd", SHARED_SKIPS),
    ("canary-flux", SHARED_SKIPS),
    // The registry adds none on AWS (ECR passes every check).
    ("aws-ecr", SHARED_SKIPS),
    ("aws-dockerhub", SHARED_SKIPS),
    // Google Cloud: the workflow's and the Deployment's, plus the state bucket's access logs
    // (audited with Cloud Audit Logs instead).
    ("gcp-gar", GCP_SKIPS),
    ("gcp-ghcr", GCP_SKIPS),
    // Azure: the workflow's and the Deployment's, plus seven on the state storage account and the
    // Key Vault (public endpoints GitHub-hosted runners and the operator must reach, private
    // endpoints and customer-managed keys that need the platform's network and keys, queue and
    // read logging that belong to the platform's diagnostic settings), and with ACR four more
    // (public endpoint, deprecated content trust, geo-replication, quarantine).
    (
        "azure-acr",
        &[("checkov.io/skip", 2), ("checkov:skip=", 12)],
    ),
    ("azure-dockerhub", AZURE_SKIPS),
    // GitLab CI: the same less the GitHub rollback workflow's (its pipeline passes every check),
    // plus one shellcheck note per rollback job: `digest` comes from the resolve job's dotenv
    // report, which shellcheck cannot see.
    (
        "gitlab-aws-ecr",
        &[
            ("checkov.io/skip", 2),
            ("checkov:skip=", 4),
            ("shellcheck disable=", 3),
        ],
    ),
    (
        "gitlab-gcp-gar",
        &[
            ("checkov.io/skip", 2),
            ("checkov:skip=", 1),
            ("shellcheck disable=", 3),
        ],
    ),
    (
        "gitlab-azure-dockerhub",
        &[
            ("checkov.io/skip", 2),
            ("checkov:skip=", 7),
            ("shellcheck disable=", 3),
        ],
    ),
];
const SHARED_SKIPS: &[(&str, usize)] = &[("checkov.io/skip", 2), ("checkov:skip=", 5)];
const GCP_SKIPS: &[(&str, usize)] = &[("checkov.io/skip", 2), ("checkov:skip=", 2)];
const AZURE_SKIPS: &[(&str, usize)] = &[("checkov.io/skip", 2), ("checkov:skip=", 8)];

fn required() -> bool {
    std::env::var("INFRA_NEW_REQUIRE_VALIDATORS").is_ok_and(|v| v == "1")
}

fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// The tool's path, or `None` (said on stderr) when it is missing and not required.
pub(crate) fn tool(name: &str) -> Option<PathBuf> {
    match which(name) {
        Some(p) => Some(p),
        None if required() => panic!(
            "`{name}` is not installed: run .ci/install-validators (the README's test command does)"
        ),
        None => {
            eprintln!("skipped: `{name}` is not installed (run .ci/install-validators)");
            None
        }
    }
}

/// `../shared` beside the project, when present.
fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!(
            "note: ../shared is not present beside the project: the checks that use it are skipped"
        );
        None
    }
}

/// A scaffold (see snapshots.rs) written to a temp dir.
struct Scaffold {
    name: String,
    dir: TempDir,
    tree: infra_new::render::Tree,
}

impl Scaffold {
    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn files_with(&self, pred: impl Fn(&str) -> bool) -> Vec<String> {
        self.tree.keys().filter(|p| pred(p)).cloned().collect()
    }
}

fn scaffolds() -> Vec<Scaffold> {
    scaffold_names()
        .into_iter()
        .map(|name| {
            let tree = scaffold_tree(&name);
            let dir = TempDir::new().unwrap();
            write_tree(dir.path(), &tree, |_| true);
            Scaffold { name, dir, tree }
        })
        .collect()
}

/// Writes the files of `tree` that `keep` selects under `root`.
pub(crate) fn write_tree(root: &Path, tree: &infra_new::render::Tree, keep: impl Fn(&str) -> bool) {
    for (path, bytes) in tree.iter().filter(|(p, _)| keep(p)) {
        let dest = root.join(path);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(dest, bytes).unwrap();
    }
}

/// Runs `cmd` and fails the test, with everything it printed, unless it exits 0.
pub(crate) fn check(what: &str, scaffold: &str, cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{what} found problems in `{scaffold}` ({cmd:?}, {}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn hadolint() {
    let Some(hadolint) = tool("hadolint") else {
        return;
    };
    for s in scaffolds() {
        let dockerfiles = s.files_with(|p| {
            p.rsplit('/')
                .next()
                .unwrap()
                .to_ascii_lowercase()
                .starts_with("dockerfile")
        });
        assert!(!dockerfiles.is_empty());
        for f in dockerfiles {
            check(
                "hadolint",
                &s.name,
                Command::new(&hadolint)
                    .args(["--failure-threshold", "info", "--no-color", &f])
                    .current_dir(s.root()),
            );
        }
    }
}

#[test]
fn actionlint_with_shellcheck() {
    let (Some(actionlint), Some(_)) = (tool("actionlint"), tool("shellcheck")) else {
        return;
    };
    for s in scaffolds() {
        let workflows = s.files_with(|p| {
            p.starts_with(".github/workflows/") && (p.ends_with(".yml") || p.ends_with(".yaml"))
        });
        if workflows.is_empty() {
            continue;
        }
        // Named explicitly: this scaffold has no .git for actionlint to find the project by.
        check(
            "actionlint",
            &s.name,
            Command::new(&actionlint)
                .arg("-no-color")
                .args(&workflows)
                .current_dir(s.root()),
        );
    }
}

#[test]
fn zizmor() {
    let Some(zizmor) = tool("zizmor") else { return };
    for s in scaffolds() {
        if s.files_with(|p| p.starts_with(".github/")).is_empty() {
            continue;
        }
        check(
            "zizmor",
            &s.name,
            Command::new(&zizmor)
                .args(["--offline", "--no-progress", "--persona", "pedantic", "."])
                .current_dir(s.root()),
        );
    }
}

#[test]
fn shellcheck() {
    let Some(shellcheck) = tool("shellcheck") else {
        return;
    };
    for s in scaffolds() {
        let scripts = s.files_with(|p| {
            p.ends_with(".sh")
                || s.tree[p].starts_with(b"#!/bin/sh")
                || s.tree[p].starts_with(b"#!/usr/bin/env bash")
                || s.tree[p].starts_with(b"#!/bin/bash")
        });
        if scripts.is_empty() {
            eprintln!(
                "note: preset `{}` has no shell scripts; its run: blocks are checked by actionlint's shellcheck",
                s.name
            );
            continue;
        }
        check(
            "shellcheck",
            &s.name,
            Command::new(&shellcheck)
                .args(&scripts)
                .current_dir(s.root()),
        );
    }
}

const YAMLLINT_CONFIG: &str = "{extends: default, rules: {line-length: {max: 200}, document-start: disable, indentation: {spaces: 2, indent-sequences: consistent}, truthy: {check-keys: false}}}";

#[test]
fn yamllint() {
    let Some(yamllint) = tool("yamllint") else {
        return;
    };
    for s in scaffolds() {
        let files = s.files_with(|p| p.ends_with(".yaml") || p.ends_with(".yml"));
        check(
            "yamllint",
            &s.name,
            Command::new(&yamllint)
                .args(["--strict", "-d", YAMLLINT_CONFIG])
                .args(&files)
                .current_dir(s.root()),
        );
    }
}

/// renovate.json against the Renovate release pinned in .ci/renovate, as a repository config, with
/// warnings (deprecated or migrated options) counted as errors.
#[test]
fn renovate_config() {
    let Some(validator) = tool("renovate-config-validator") else {
        return;
    };
    for s in scaffolds() {
        let out = check(
            "renovate-config-validator",
            &s.name,
            Command::new(&validator)
                .args(["--strict", "--no-global", "renovate.json"])
                .current_dir(s.root()),
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Config validated successfully"), "{text}");
    }
}

/// The Kustomize roots of a rendered tree: every overlay and the GitOps bootstrap directory
/// (base and components are only built through them).
fn kustomize_roots(tree: &infra_new::render::Tree) -> Vec<String> {
    let dirs: Vec<String> = tree
        .keys()
        .filter(|p| {
            p.ends_with("/kustomization.yaml")
                && !p.contains("/base/")
                && !p.contains("/components/")
        })
        .map(|p| p.trim_end_matches("/kustomization.yaml").to_string())
        .collect();
    assert!(dirs.len() >= 4, "{dirs:?}");
    dirs
}

/// Splits kustomize output into documents.
fn documents(yaml: &str) -> Vec<String> {
    yaml.split("\n---\n")
        .map(|d| d.trim_start_matches("---\n").to_string())
        .filter(|d| !d.trim().is_empty())
        .collect()
}

fn top_level(doc: &str, key: &str) -> Option<String> {
    doc.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}: ")))
        .map(|v| v.trim().trim_matches('"').to_string())
}

/// Every language × rollout strategy × GitOps engine: each overlay and the engine's bootstrap
/// directory build with `kubectl kustomize`; the output passes kubernetes-validate (strict), every
/// custom resource validates against its CRD schema from ../shared/crd-schemas, and checkov
/// (kubernetes) finds nothing on the built manifests. Only deploy/ is rendered to disk; the
/// validators run once over all combinations.
#[test]
fn every_combination_builds_and_validates() {
    let Some(kubectl) = tool("kubectl") else {
        return;
    };
    let kv = tool("kubernetes-validate");
    let cjs = tool("check-jsonschema");
    let checkov = tool("checkov");
    let shared = shared();

    let work = TempDir::new().unwrap();
    // Every language with every rollout and GitOps engine (AWS, GHCR), and every cloud with each
    // registry it takes, with every rollout and GitOps engine (the default language).
    let mut answer_sets: Vec<(String, Vec<(&str, &str)>)> = Vec::new();
    for rollout in Rollout::ALL {
        for gitops in Gitops::ALL {
            let common = [("rollout", rollout.id()), ("gitops", gitops.id())];
            for language in Language::ALL {
                let mut set = common.to_vec();
                set.push(("language", language.id()));
                answer_sets.push((format!("{language}-{rollout}-{gitops}"), set));
            }
            for cloud in Cloud::ALL {
                for registry in Registry::fitting(*cloud, Ci::Github) {
                    if (*cloud, registry) == (Cloud::Aws, Registry::Ghcr) {
                        continue; // covered above
                    }
                    let mut set = common.to_vec();
                    set.extend([("cloud", cloud.id()), ("registry", registry.id())]);
                    answer_sets.push((format!("{cloud}-{registry}-{rollout}-{gitops}"), set));
                }
            }
        }
    }
    let cloud_registry_pairs: usize = Cloud::ALL
        .iter()
        .map(|c| Registry::fitting(*c, Ci::Github).len())
        .sum();
    assert_eq!(
        answer_sets.len(),
        Rollout::ALL.len() * Gitops::ALL.len() * (Language::ALL.len() + cloud_registry_pairs - 1)
    );
    let mut combos = Vec::new();
    for (combo, set) in &answer_sets {
        let tree = tree_with("default", set);
        let root = work.path().join("src").join(combo);
        write_tree(&root, &tree, |p| p.starts_with("deploy/"));
        for dir in kustomize_roots(&tree) {
            combos.push((combo.clone(), root.clone(), dir));
        }
    }
    assert_eq!(combos.len(), answer_sets.len() * 4);

    // kubectl kustomize, a few at a time.
    let built_dir = work.path().join("built");
    std::fs::create_dir(&built_dir).unwrap();
    let threads = std::thread::available_parallelism().map_or(4, |n| n.get().min(8));
    let chunk = combos.len().div_ceil(threads);
    let built: Vec<(String, PathBuf, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = combos
            .chunks(chunk)
            .map(|part| {
                let (kubectl, built_dir) = (&kubectl, &built_dir);
                scope.spawn(move || {
                    part.iter()
                        .map(|(combo, root, dir)| {
                            let out = check(
                                "kubectl kustomize",
                                combo,
                                Command::new(kubectl)
                                    .args(["kustomize", dir])
                                    .current_dir(root),
                            );
                            // kustomize warns on stderr about deprecated fields
                            // (commonLabels, patchesStrategicMerge, bases, ...): none may appear.
                            assert!(
                                out.stderr.is_empty(),
                                "{combo} {dir}: kustomize warned:\n{}",
                                String::from_utf8_lossy(&out.stderr)
                            );
                            let yaml = String::from_utf8(out.stdout).unwrap();
                            let file =
                                built_dir.join(format!("{combo}__{}.yaml", dir.replace('/', "_")));
                            std::fs::write(&file, &yaml).unwrap();
                            (combo.clone(), file, yaml)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });

    if let Some(kv) = &kv {
        check(
            "kubernetes-validate",
            "all combinations",
            Command::new(kv)
                .args(["--strict", "--quiet"])
                .args(built.iter().map(|(_, f, _)| f)),
        );
    }

    // Custom resources, one file per document, grouped by schema.
    let docs_dir = work.path().join("docs");
    std::fs::create_dir(&docs_dir).unwrap();
    let mut by_schema: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for (combo, file, yaml) in &built {
        let stem = file.file_stem().unwrap().to_string_lossy().to_string();
        for (i, doc) in documents(yaml).into_iter().enumerate() {
            let api = top_level(&doc, "apiVersion").expect("apiVersion");
            let kind = top_level(&doc, "kind").expect("kind");
            let Some((group, version)) = api.split_once('/') else {
                continue;
            };
            if !group.contains('.') || group.ends_with(".k8s.io") {
                continue; // built-in: kubernetes-validate covers it
            }
            *kinds.entry(format!("{api} {kind}")).or_default() += 1;
            let Some(shared) = &shared else { continue };
            let schema = shared
                .join("crd-schemas")
                .join(group)
                .join(format!("{}_{version}.json", kind.to_ascii_lowercase()));
            assert!(
                schema.is_file(),
                "{combo}: no schema for {api} {kind} in ../shared/crd-schemas"
            );
            let doc_file = docs_dir.join(format!("{stem}-{i}-{kind}.yaml"));
            std::fs::write(&doc_file, doc).unwrap();
            by_schema.entry(schema).or_default().push(doc_file);
        }
    }
    eprintln!("custom resources over all combinations: {kinds:?}");
    for kind in [
        "argoproj.io/v1alpha1 Rollout",
        "argoproj.io/v1alpha1 AnalysisTemplate",
        "argoproj.io/v1alpha1 Application",
        "argoproj.io/v1alpha1 AppProject",
        "kustomize.toolkit.fluxcd.io/v1 Kustomization",
        "source.toolkit.fluxcd.io/v1 GitRepository",
        "external-secrets.io/v1 ExternalSecret",
        "external-secrets.io/v1 SecretStore",
    ] {
        assert!(kinds.contains_key(kind), "no {kind} in any combination");
    }
    if let (Some(cjs), Some(_)) = (&cjs, &shared) {
        for (schema, docs) in &by_schema {
            let schema = python_regex_schema(schema, work.path());
            for part in docs.chunks(400) {
                check(
                    "check-jsonschema (CRD schema)",
                    &schema.display().to_string(),
                    Command::new(cjs)
                        .args(["--regex-variant", "python", "--schemafile"])
                        .arg(&schema)
                        .args(part),
                );
            }
        }
    }
    if let Some(checkov) = &checkov {
        checkov_run(checkov, "all combinations", &built_dir, "kubernetes");
    }
}

/// The shared PrometheusRule schema writes a pattern as `^(?i)…`, which neither ECMAScript nor
/// Python accepts (a global flag must come first). A copy in the test's temp dir moves the flag to
/// the front; the meaning is the same.
fn python_regex_schema(schema: &Path, tmp: &Path) -> PathBuf {
    let text = std::fs::read_to_string(schema).unwrap();
    if !text.contains("^(?i)") {
        return schema.to_path_buf();
    }
    eprintln!(
        "note: {} uses `^(?i)` patterns; checking with the flag moved to the front",
        schema.display()
    );
    let copy = tmp.join(format!(
        "patched-{}",
        schema.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&copy, text.replace("^(?i)", "(?i)^")).unwrap();
    copy
}

pub(crate) fn checkov_run(checkov: &Path, preset: &str, dir: &Path, framework: &str) {
    let out = check(
        &format!("checkov ({framework})"),
        preset,
        Command::new(checkov)
            .args([
                "--quiet",
                "--compact",
                "--skip-download",
                "--framework",
                framework,
                "-d",
            ])
            .arg(dir)
            .env("BC_SKIP_MAPPING", "TRUE")
            .env("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false"),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("Failed checks: ") || text.contains("Failed checks: 0"),
        "{text}"
    );
}

#[test]
fn checkov_dockerfile_pipelines_terraform_secrets() {
    let Some(checkov) = tool("checkov") else {
        return;
    };
    for s in scaffolds() {
        for framework in [
            "dockerfile",
            "github_actions",
            "gitlab_ci",
            "terraform",
            "secrets",
        ] {
            checkov_run(&checkov, &s.name, s.root(), framework);
        }
    }
}

/// `.gitlab-ci.yml` and the files it includes are valid against GitLab's CI schema (the copy
/// check-jsonschema ships).
#[test]
fn gitlab_ci_schema() {
    let Some(cjs) = tool("check-jsonschema") else {
        return;
    };
    let mut checked = 0;
    for s in scaffolds() {
        let files = s.files_with(|p| {
            p == ".gitlab-ci.yml" || (p.starts_with(".gitlab/ci/") && p.ends_with(".yml"))
        });
        if files.is_empty() {
            continue;
        }
        check(
            "check-jsonschema (GitLab CI)",
            &s.name,
            Command::new(&cjs)
                .args(["--builtin-schema", "vendor.gitlab-ci"])
                .args(&files)
                .current_dir(s.root()),
        );
        checked += 1;
    }
    assert!(
        checked > 0 || std::env::var("INFRA_NEW_PRESETS").is_ok(),
        "no scaffold has a GitLab pipeline"
    );
}

/// compose.yaml is valid against the Compose specification, runs the image read-only, and checks
/// health with exactly the command of the Dockerfile's HEALTHCHECK.
#[test]
fn compose_file() {
    let Some(cjs) = tool("check-jsonschema") else {
        return;
    };
    for s in scaffolds() {
        check(
            "check-jsonschema (compose-spec)",
            &s.name,
            Command::new(&cjs)
                .args(["--builtin-schema", "vendor.compose-spec", "compose.yaml"])
                .current_dir(s.root()),
        );
        let compose = String::from_utf8(s.tree["compose.yaml"].clone()).unwrap();
        let dockerfile = String::from_utf8(s.tree["Dockerfile"].clone()).unwrap();
        assert!(compose.contains("read_only: true"), "{}", s.name);
        let image_check = dockerfile
            .split("HEALTHCHECK")
            .nth(1)
            .and_then(|rest| rest.split("CMD ").nth(1))
            .and_then(|cmd| cmd.lines().next())
            .unwrap_or_else(|| panic!("{}: no HEALTHCHECK CMD", s.name));
        let expected = image_check.replacen('[', "[\"CMD\", ", 1);
        assert!(
            compose.contains(&format!("test: {expected}")),
            "{}: compose health check differs from the image's {image_check}",
            s.name
        );
    }
}

#[test]
fn promtool_rules_and_unit_tests() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    for s in scaffolds() {
        let rules =
            s.files_with(|p| p.starts_with("monitoring/prometheus/") && p.ends_with("rules.yaml"));
        let tests =
            s.files_with(|p| p.starts_with("monitoring/prometheus/") && p.ends_with(".test.yaml"));
        assert!(
            !rules.is_empty() && !tests.is_empty(),
            "{:?}",
            s.tree.keys()
        );
        check(
            "promtool check rules",
            &s.name,
            Command::new(&promtool)
                .args(["check", "rules"])
                .args(&rules)
                .current_dir(s.root()),
        );
        check(
            "promtool test rules",
            &s.name,
            Command::new(&promtool)
                .args(["test", "rules"])
                .args(&tests)
                .current_dir(s.root()),
        );
    }
}

#[test]
fn terraform_fmt() {
    let Some(terraform) = which("terraform") else {
        eprintln!(
            "skipped: the terraform CLI is not installed here, so `terraform fmt -check` did not run"
        );
        return;
    };
    for s in scaffolds() {
        check(
            "terraform fmt",
            &s.name,
            Command::new(&terraform)
                .args(["fmt", "-check", "-recursive", "-diff", "terraform"])
                .current_dir(s.root()),
        );
    }
}

#[test]
fn tfcheck_against_provider_schemas() {
    let Some(shared) = shared() else { return };
    let tfcheck = shared.join("tools/tfcheck/tfcheck");
    if !tfcheck.is_file() {
        eprintln!("note: ../shared/tools/tfcheck is not there: provider-schema check skipped");
        return;
    }
    for s in scaffolds() {
        let out = check(
            "tfcheck",
            &s.name,
            Command::new(&tfcheck)
                .arg("terraform")
                .current_dir(s.root()),
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(", 0 findings"), "{text}");
    }
}

/// Every preset's service skeleton, natively: its own checks and unit tests, then the service is
/// started on a free port: health, readiness and metrics answer, and SIGTERM ends it with exit 0
/// inside the grace period. The language is told by the manifest file each one has.
#[test]
fn service_builds_tests_and_serves() {
    // The variants differ from the default preset in deploy/ and docs only: presets cover every language.
    for s in scaffolds().into_iter().filter(|s| is_preset(&s.name)) {
        if s.tree.contains_key("go.mod") {
            go_service(&s);
        } else if s.tree.contains_key("package.json") {
            node_service(&s);
        } else if s.tree.contains_key("pyproject.toml") {
            python_service(&s);
        } else if s.tree.contains_key("Cargo.toml") {
            rust_service(&s);
        } else if s.tree.contains_key("pom.xml") {
            java_service(&s);
        } else {
            panic!("preset `{}`: no smoke run for its language", s.name);
        }
    }
}

fn go_service(s: &Scaffold) {
    let Some(go) = tool("go") else { return };
    let gocache = TempDir::new().unwrap();
    let go_cmd = |args: &[&str]| {
        let mut c = Command::new(&go);
        c.args(args)
            .current_dir(s.root())
            .env("GOCACHE", gocache.path())
            .env("GOFLAGS", "-mod=mod")
            .env("GOTOOLCHAIN", "local")
            .env("GOPROXY", "off");
        c
    };
    check("go vet", &s.name, &mut go_cmd(&["vet", "./..."]));
    check("go test", &s.name, &mut go_cmd(&["test", "./..."]));
    let gofmt = go.with_file_name("gofmt");
    let out = check(
        "gofmt",
        &s.name,
        Command::new(&gofmt)
            .arg("-l")
            .arg(".")
            .current_dir(s.root()),
    );
    assert!(
        out.stdout.is_empty(),
        "gofmt wants to reformat: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    check(
        "go build",
        &s.name,
        &mut go_cmd(&["build", "-o", "server", "."]),
    );
    smoke(Command::new(s.root().join("server")), &s.name);
}

fn node_service(s: &Scaffold) {
    let Some(node) = tool("node") else { return };
    check(
        "node --test",
        &s.name,
        Command::new(&node).arg("--test").current_dir(s.root()),
    );
    let mut run = Command::new(&node);
    run.arg("src/main.js").current_dir(s.root());
    smoke(run, &s.name);
}

fn python_service(s: &Scaffold) {
    let Some(python) = tool("python3") else {
        return;
    };
    check(
        "python unittest",
        &s.name,
        Command::new(&python)
            .args(["-m", "unittest", "discover", "-s", "tests"])
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .current_dir(s.root()),
    );
    let mut run = Command::new(&python);
    run.args(["-m", "app.main"])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(s.root());
    smoke(run, &s.name);
}

fn rust_service(s: &Scaffold) {
    let Some(cargo) = tool("cargo") else { return };
    let cargo_cmd = |args: &[&str]| {
        let mut c = Command::new(&cargo);
        c.args(args).current_dir(s.root());
        c
    };
    check(
        "cargo fmt --check",
        &s.name,
        &mut cargo_cmd(&["fmt", "--check"]),
    );
    check(
        "cargo test",
        &s.name,
        &mut cargo_cmd(&["test", "--locked", "--quiet"]),
    );
    check(
        "cargo build",
        &s.name,
        &mut cargo_cmd(&["build", "--locked", "--quiet"]),
    );
    smoke(Command::new(s.root().join("target/debug/server")), &s.name);
}

/// Maven Central is out of reach here: the sources are compiled with javac and the JUnit tests run
/// with Debian's JUnit console launcher; CI in the generated repository runs `mvn verify`.
fn java_service(s: &Scaffold) {
    let (Some(javac), Some(java)) = (tool("javac"), tool("java")) else {
        return;
    };
    let junit = Path::new("/usr/share/java/junit-platform-console-standalone.jar");
    let sources =
        |dir: &str| -> Vec<String> { s.files_with(|p| p.starts_with(dir) && p.ends_with(".java")) };
    check(
        "javac (main)",
        &s.name,
        Command::new(&javac)
            .args(["--release", "17", "-Xlint:all", "-d", "build/classes"])
            .args(sources("src/main/java/"))
            .current_dir(s.root()),
    );
    if junit.is_file() {
        let cp = format!("build/classes:{}", junit.display());
        check(
            "javac (tests)",
            &s.name,
            Command::new(&javac)
                .args([
                    "--release",
                    "17",
                    "-Xlint:all",
                    "-Werror",
                    "-cp",
                    &cp,
                    "-d",
                    "build/test-classes",
                ])
                .args(sources("src/test/java/"))
                .current_dir(s.root()),
        );
        check(
            "JUnit",
            &s.name,
            Command::new(&java)
                .arg("-jar")
                .arg(junit)
                .args([
                    "-cp",
                    "build/classes:build/test-classes",
                    "--select-package",
                    "app",
                    "--disable-banner",
                ])
                .current_dir(s.root()),
        );
    } else if required() {
        panic!("JUnit's console launcher is missing: run .ci/install-validators");
    } else {
        eprintln!(
            "skipped: the Java unit tests (no JUnit console launcher; run .ci/install-validators)"
        );
    }
    let mut run = Command::new(&java);
    run.args(["-cp", "build/classes", "app.Main"])
        .current_dir(s.root());
    smoke(run, &s.name);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, response))
}

fn smoke(mut command: Command, preset: &str) {
    let port = free_port();
    let mut child = command
        .env("PORT", port.to_string())
        .env("READINESS_DRAIN_DELAY", "1s")
        .env("SHUTDOWN_TIMEOUT", "5s")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while get(port, "/healthz").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{preset}: the service did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(get(port, "/healthz").unwrap().0, 200);
    assert_eq!(get(port, "/readyz").unwrap().0, 200);
    assert_eq!(get(port, "/does-not-exist").unwrap().0, 404);
    let (status, metrics) = get(port, "/metrics").unwrap();
    assert_eq!(status, 200);
    let m = infra_new::render::METRICS;
    for needle in [
        format!("# TYPE {} counter", m.requests),
        format!("# TYPE {} histogram", m.duration),
        format!("{}_bucket{{", m.duration),
        "route=\"other\"".to_string(),
        "status=\"404\"".to_string(),
    ] {
        assert!(
            metrics.contains(&needle),
            "{preset}: /metrics lacks `{needle}`:\n{metrics}"
        );
    }
    // SIGTERM: readiness turns 503 during the drain delay, then the process exits 0.
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        get(port, "/readyz").map(|r| r.0),
        Some(503),
        "{preset}: readiness must fail once shutdown begins"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "{preset}: no exit within 10 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut logs = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(
        status.success(),
        "{preset}: exit status {status} after SIGTERM; logs:\n{logs}"
    );
    // Logs are JSON, one object per line.
    for line in logs.lines() {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{preset}: not a JSON log line ({e}): {line}"));
        assert!(v.get("level").is_some() && v.get("msg").is_some(), "{line}");
    }
}

/// Inline skips: every one states its reason, and their number per preset is exactly the table's.
#[test]
fn inline_skips_are_counted_and_give_reasons() {
    const MARKERS: &[&str] = &[
        "checkov:skip=",
        "checkov.io/skip",
        "hadolint ignore=",
        "zizmor: ignore[",
        "yamllint disable",
        "shellcheck disable=",
        "nosemgrep",
        "tfsec:ignore",
    ];
    for s in scaffolds() {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (path, bytes) in &s.tree {
            let Ok(text) = std::str::from_utf8(bytes) else {
                continue;
            };
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                for marker in MARKERS {
                    if let Some(at) = line.find(marker) {
                        // A marker quoted in backticks is documentation, not a skip.
                        if line[..at].ends_with('`') {
                            continue;
                        }
                        *counts.entry(marker).or_default() += 1;
                        let rest = &line[at + marker.len()..];
                        // The reason follows the id (`ID:reason`, `ID=reason`, `] reason`), stands
                        // in a comment on the line above, or (a folded YAML value) on the next line.
                        let inline = rest
                            .split_once([':', '=', ']'])
                            .map(|(_, r)| r.trim().len() > 8)
                            .unwrap_or(false)
                            || rest.split_whitespace().count() > 2;
                        let above = i > 0
                            && lines[i - 1].trim_start().starts_with('#')
                            && lines[i - 1].len() > 20;
                        let below = rest.trim_end().ends_with(['>', '|', '-'])
                            && lines.get(i + 1).is_some_and(|next| {
                                next.split_once('=')
                                    .is_some_and(|(_, r)| r.trim().len() > 8)
                            });
                        assert!(
                            inline || above || below,
                            "{}:{}: `{marker}` without a reason: {line}",
                            path,
                            i + 1
                        );
                    }
                }
            }
        }
        let expected: BTreeMap<&str, usize> = EXPECTED_SKIPS
            .iter()
            .find(|(p, _)| *p == s.name)
            .map(|(_, m)| m.iter().copied().collect())
            .unwrap_or_else(|| panic!("scaffold `{}` is missing from EXPECTED_SKIPS", s.name));
        eprintln!("inline skips in `{}`: {counts:?}", s.name);
        assert_eq!(counts, expected, "inline skips changed in `{}`", s.name);
    }
}

/// The values of `key` anywhere in a document (`key: value` lines, any indentation, also as the
/// first key of a sequence item).
fn values_of(doc: &str, key: &str) -> Vec<String> {
    doc.lines()
        .map(|l| l.trim_start().trim_start_matches("- "))
        .filter_map(|l| l.strip_prefix(&format!("{key}: ")))
        .map(|v| v.trim().trim_matches('"').to_string())
        .collect()
}

/// The name under a reference block such as `workloadRef:` or `scaleTargetRef:`.
fn ref_name(doc: &str, block: &str) -> Option<String> {
    let mut lines = doc.lines().skip_while(|l| l.trim() != format!("{block}:"));
    let head = lines.next()?;
    let indent = head.len() - head.trim_start().len();
    lines
        .take_while(|l| l.len() - l.trim_start().len() > indent)
        .find_map(|l| l.trim_start().strip_prefix("name: "))
        .map(|v| v.trim().to_string())
}

/// An overlay of an overlay that adds a `namePrefix` still yields a consistent Argo Rollouts
/// setup: the Rollout's workload, Service and AnalysisTemplate references and the HPA's target are
/// renamed with the objects they point at (the rollout components teach kustomize those fields).
#[test]
fn rollout_references_follow_kustomize_renames() {
    let Some(kubectl) = tool("kubectl") else {
        return;
    };
    for rollout in [Rollout::BlueGreen, Rollout::Canary] {
        let tree = tree_with("default", &[("rollout", rollout.id())]);
        let dir = TempDir::new().unwrap();
        write_tree(dir.path(), &tree, |p| p.starts_with("deploy/"));
        std::fs::create_dir(dir.path().join("renamed")).unwrap();
        std::fs::write(
            dir.path().join("renamed/kustomization.yaml"),
            "resources:\n- ../deploy/kubernetes/overlays/staging\nnamePrefix: pre-\n",
        )
        .unwrap();
        let out = check(
            "kubectl kustomize (namePrefix)",
            rollout.id(),
            Command::new(&kubectl)
                .args(["kustomize", "renamed"])
                .current_dir(dir.path()),
        );
        let yaml = String::from_utf8(out.stdout).unwrap();
        let docs = documents(&yaml);
        let of_kind = |kind: &str| -> Vec<&String> {
            docs.iter()
                .filter(|d| top_level(d, "kind").as_deref() == Some(kind))
                .collect()
        };
        let rollouts = of_kind("Rollout");
        assert_eq!(rollouts.len(), 1, "{rollout}: {yaml}");
        let r = rollouts[0];
        assert_eq!(ref_name(r, "workloadRef").as_deref(), Some("pre-checkout"));
        let mut refs = Vec::new();
        for key in [
            "activeService",
            "previewService",
            "canaryService",
            "stableService",
            "templateName",
        ] {
            refs.extend(values_of(r, key));
        }
        assert!(
            !refs.is_empty(),
            "{rollout}: the Rollout names no Service or template"
        );
        let services: Vec<String> = of_kind("Service")
            .iter()
            .flat_map(|d| ref_name(d, "metadata"))
            .collect();
        let templates: Vec<String> = of_kind("AnalysisTemplate")
            .iter()
            .flat_map(|d| ref_name(d, "metadata"))
            .collect();
        for name in &refs {
            assert!(
                name.starts_with("pre-") && (services.contains(name) || templates.contains(name)),
                "{rollout}: reference `{name}` does not name a renamed object ({services:?} {templates:?})"
            );
        }
        let hpa = of_kind("HorizontalPodAutoscaler");
        assert_eq!(
            ref_name(hpa[0], "scaleTargetRef").as_deref(),
            Some("pre-checkout")
        );
        assert!(hpa[0].contains("kind: Rollout"), "{}", hpa[0]);
    }
}
