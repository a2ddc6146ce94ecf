//! `infra-new new`: what it writes, what it refuses, and how answers are layered.

use predicates::prelude::*;

use crate::support::{TEST_EMAIL, TEST_NAME, TestContext, read_tree, stderr, stdout};

#[test]
fn creates_a_committed_scaffold_on_main() {
    let ctx = TestContext::new();
    let out = stdout(&ctx.new_scaffold("checkout", &[]).success());
    assert!(out.contains("Created `checkout`"), "{out}");

    let root = ctx.path("checkout");
    let files = read_tree(&root);
    for expected in [
        ".infra-new.toml",
        "Dockerfile",
        ".dockerignore",
        "go.mod",
        "main.go",
        "deploy/kubernetes/base/kustomization.yaml",
        "deploy/kubernetes/overlays/dev/kustomization.yaml",
        "deploy/kubernetes/overlays/staging/kustomization.yaml",
        "deploy/kubernetes/overlays/production/kustomization.yaml",
        "deploy/argocd/project.yaml",
        "terraform/bootstrap/main.tf",
        "terraform/environments/production/main.tf",
        ".github/workflows/ci.yml",
        "monitoring/prometheus/rules.yaml",
        "README.md",
    ] {
        assert!(
            files.contains_key(expected),
            "missing {expected}; have {:?}",
            files.keys().collect::<Vec<_>>()
        );
    }
    assert!(files.keys().any(|k| k.starts_with("docs/runbooks/")));
    assert!(
        !files
            .keys()
            .any(|k| k.ends_with(".j2") || k.contains("__env__"))
    );

    // One commit on main holding exactly the files on disk, by the configured identity.
    let repo = git2::Repository::open(&root).unwrap();
    assert_eq!(repo.head().unwrap().shorthand().unwrap(), "main");
    let commit = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(commit.parent_count(), 0);
    assert_eq!(commit.author().name().unwrap(), TEST_NAME);
    assert_eq!(commit.author().email().unwrap(), TEST_EMAIL);
    let mut committed = Vec::new();
    commit
        .tree()
        .unwrap()
        .walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(git2::ObjectType::Blob) {
                committed.push(format!("{dir}{}", entry.name().unwrap()));
            }
            git2::TreeWalkResult::Ok
        })
        .unwrap();
    committed.sort();
    assert_eq!(committed, files.keys().cloned().collect::<Vec<_>>());
    let statuses = repo.statuses(None).unwrap();
    assert_eq!(statuses.len(), 0, "working tree is not clean");
}

#[test]
fn the_record_re_renders_the_same_scaffold() {
    let ctx = TestContext::new();
    ctx.new_scaffold(
        "first",
        &[
            "--set",
            "slo_target=99.95",
            "--port",
            "9090",
            "--team",
            "payments",
        ],
    )
    .success();
    let record = ctx.path("first/.infra-new.toml");
    let text = std::fs::read_to_string(&record).unwrap();
    assert!(
        text.contains("version = \"0.1.0\"") && text.contains("slo_target = 99.95"),
        "{text}"
    );

    // The second scaffold gets a different directory but the recorded name, from the record only.
    ctx.cmd()
        .args(["new", "second", "--non-interactive", "--answers"])
        .arg(&record)
        .assert()
        .success();
    assert_eq!(
        read_tree(&ctx.path("first")),
        read_tree(&ctx.path("second"))
    );
}

#[test]
fn name_defaults_to_the_directory_name() {
    let ctx = TestContext::new();
    ctx.new_scaffold("sub/order-api", &["--no-git"]).success();
    let record = std::fs::read_to_string(ctx.path("sub/order-api/.infra-new.toml")).unwrap();
    assert!(record.contains("name = \"order-api\""), "{record}");
}

#[test]
fn without_a_path_the_directory_is_named_after_the_service() {
    let ctx = TestContext::new();
    ctx.cmd()
        .args([
            "new",
            "--preset",
            "default",
            "--org",
            "acme",
            "--account",
            "111122223333",
            "--name",
            "billing",
            "--yes",
            "--no-git",
        ])
        .assert()
        .success();
    assert!(ctx.path("billing/.infra-new.toml").is_file());
}

#[test]
fn precedence_is_preset_then_file_then_set_then_flags() {
    let ctx = TestContext::new();
    std::fs::write(
        ctx.path("answers.toml"),
        "org = \"from-file\"\naccount = \"111122223333\"\nteam = \"file-team\"\nport = 9000\nslo_target = 99.5\n",
    )
    .unwrap();
    let out = ctx
        .cmd()
        .args([
            "new",
            "svc",
            "--preset",
            "default",
            "--answers",
            "answers.toml",
            "--set",
            "team=set-team",
            "--set",
            "port=9100",
        ])
        .args(["--port", "9200", "--yes", "--dry-run", "--format", "json"])
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let a = &json["answers"];
    assert_eq!(a["org"], "from-file");
    assert_eq!(a["team"], "set-team");
    assert_eq!(a["port"], 9200);
    assert_eq!(a["slo_target"], 99.5);
    assert_eq!(a["language"], "go");
}

#[test]
fn a_preset_can_be_a_file() {
    let ctx = TestContext::new();
    std::fs::write(
        ctx.path("mine.toml"),
        "# mine\nlanguage = \"go\"\norg = \"acme\"\naccount = \"111122223333\"\n",
    )
    .unwrap();
    ctx.cmd()
        .args(["new", "svc", "--preset", "./mine.toml", "--yes", "--no-git"])
        .assert()
        .success();
    assert!(ctx.path("svc/Dockerfile").is_file());
}

/// Each bad input exits 2, names the key and what is valid, and writes nothing.
#[test]
fn bad_input_exits_2_names_the_key_and_writes_nothing() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["--name", "Bad_Name"], &["`name`", "lowercase letters"]),
        (
            &["--name", "9lives"],
            &["`name`", "start with a lowercase letter"],
        ),
        (
            &["--language", "cobol"],
            &["`language`", "\"cobol\"", "valid values: go, node, python"],
        ),
        (
            &["--registry", "quay"],
            &["`registry`", "valid values: ghcr"],
        ),
        (&["--cloud", "oracle"], &["`cloud`", "valid values: aws"]),
        (
            &["--rollout", "big-bang"],
            &["`rollout`", "valid values: rolling"],
        ),
        (&["--ci", "jenkins"], &["`ci`", "valid values: github"]),
        (&["--gitops", "helm"], &["`gitops`", "valid values: argocd"]),
        (&["--org", "Acme Corp"], &["`org`", "GitHub organisation"]),
        (&["--team=-x"], &["`team`"]),
        (&["--port", "80"], &["`port`", "1024 to 65535"]),
        (&["--port", "http"], &["`port`"]),
        (&["--region", "mars-north-1x"], &["`region`", "AWS region"]),
        (&["--slo-target", "100"], &["`slo_target`", "95 to 99.999"]),
        (&["--slo-target", "99.99999"], &["`slo_target`"]),
        (&["--slo-target", "94.9"], &["`slo_target`", "95 to 99.999"]),
        (
            &["--set", "colour=blue"],
            &["`colour`", "valid keys: name, language"],
        ),
        (&["--set", "novalue"], &["--set novalue", "KEY=VALUE"]),
        (&["--preset", "nope"], &["unknown preset `nope`", "default"]),
        (&["--answers", "missing.toml"], &["missing.toml"]),
    ];
    for (args, needles) in cases {
        let ctx = TestContext::new();
        let assert = ctx
            .cmd()
            .args([
                "new",
                "svc",
                "--set",
                "org=acme",
                "--set",
                "account=111122223333",
                "--yes",
            ])
            .args(*args)
            .assert()
            .code(2);
        let err = stderr(&assert);
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        for needle in *needles {
            assert!(err.contains(needle), "{args:?}: `{needle}` not in:\n{err}");
        }
        assert_eq!(
            ctx.entries(),
            Vec::<String>::new(),
            "{args:?} wrote something"
        );
    }
}

#[test]
fn every_problem_is_reported_in_one_error() {
    let ctx = TestContext::new();
    std::fs::write(ctx.path("a.toml"), "langauge = \"go\"\nport = [8080]\n").unwrap();
    let err = stderr(
        &ctx.cmd()
            .args([
                "new",
                "svc",
                "--answers",
                "a.toml",
                "--cloud",
                "openstack",
                "--name",
                "X",
                "--yes",
            ])
            .assert()
            .code(2),
    );
    for key in [
        "`langauge`",
        "`port`",
        "`cloud`",
        "`name`",
        "`org` is missing",
    ] {
        assert!(err.contains(key), "{key} not in {err}");
    }
    assert!(err.contains("invalid or missing answers"));
}

#[test]
fn a_registry_of_another_cloud_and_a_stray_tenant_are_refused() {
    let ctx = TestContext::new();
    let base = ["new", "svc", "--org", "acme", "--yes", "--no-git"];
    let err = stderr(
        &ctx.cmd()
            .args(base)
            .args([
                "--cloud",
                "gcp",
                "--account",
                "acme-svc-prod",
                "--registry",
                "acr",
            ])
            .assert()
            .code(2),
    );
    assert!(
        err.contains("`registry` = \"acr\"")
            && err.contains("needs cloud `azure`")
            && err.contains("the valid values are: ghcr, gar, dockerhub"),
        "{err}"
    );
    let err = stderr(
        &ctx.cmd()
            .args(base)
            .args(["--account", "111122223333"])
            .args(["--tenant", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"])
            .assert()
            .code(2),
    );
    assert!(
        err.contains("`tenant`") && err.contains("only used with cloud `azure`"),
        "{err}"
    );
    // Azure needs the tenant, and the account is a subscription ID.
    let err = stderr(
        &ctx.cmd()
            .args(base)
            .args(["--cloud", "azure", "--account", "111122223333"])
            .assert()
            .code(2),
    );
    assert!(
        err.contains("Azure subscription ID") && err.contains("`tenant` is missing"),
        "{err}"
    );
    assert_eq!(ctx.entries(), Vec::<String>::new());
}

#[test]
fn ghcr_is_refused_with_gitlab_and_the_default_registry_follows_cloud_and_ci() {
    let ctx = TestContext::new();
    let base = ["new", "svc", "--org", "acme", "--yes", "--no-git"];
    let gcp = [
        "--cloud",
        "gcp",
        "--account",
        "acme-svc-prod",
        "--ci",
        "gitlab",
    ];
    let err = stderr(
        &ctx.cmd()
            .args(base)
            .args(gcp)
            .args(["--registry", "ghcr"])
            .assert()
            .code(2),
    );
    assert!(
        err.contains("`registry` = \"ghcr\"")
            && err.contains("needs ci `github`")
            && err
                .contains("with cloud `gcp` and ci `gitlab` the valid values are: gar, dockerhub"),
        "{err}"
    );
    assert_eq!(ctx.entries(), Vec::<String>::new());

    // No registry given: the first one that fits the cloud and the CI system.
    ctx.cmd().args(base).args(gcp).assert().success();
    let answers = std::fs::read_to_string(ctx.path("svc/.infra-new.toml")).unwrap();
    assert!(
        answers.contains("registry = \"gar\"") && answers.contains("ci = \"gitlab\""),
        "{answers}"
    );
    assert!(ctx.path("svc/.gitlab-ci.yml").is_file());
    assert!(!ctx.path("svc/.github").exists());
}

#[test]
fn without_a_terminal_nothing_is_asked_and_missing_answers_fail() {
    let ctx = TestContext::new();
    // stdin is a pipe: the wizard must not start, even without --non-interactive.
    let err = stderr(&ctx.cmd().args(["new", "svc"]).assert().code(2));
    for key in [
        "name",
        "language",
        "registry",
        "cloud",
        "rollout",
        "ci",
        "gitops",
        "org",
        "team",
        "port",
        "region",
        "account",
        "slo_target",
    ] {
        assert!(err.contains(&format!("`{key}` is missing")), "{key}: {err}");
    }
    assert!(err.contains("valid values: go"));
    assert_eq!(ctx.entries(), Vec::<String>::new());
}

#[test]
fn yes_takes_defaults_but_not_for_answers_without_one() {
    let ctx = TestContext::new();
    let err = stderr(&ctx.cmd().args(["new", "svc", "--yes"]).assert().code(2));
    assert!(
        err.contains("2 invalid or missing answers:")
            && err.contains("`org` is missing")
            && err.contains("`account` is missing"),
        "{err}"
    );
}

#[test]
fn a_non_empty_target_is_refused_and_left_alone() {
    let ctx = TestContext::new();
    std::fs::create_dir(ctx.path("svc")).unwrap();
    std::fs::write(ctx.path("svc/notes.txt"), "mine").unwrap();
    let err = stderr(&ctx.new_scaffold("svc", &[]).code(2));
    assert!(err.contains("exists and is not empty"), "{err}");
    assert_eq!(
        std::fs::read_to_string(ctx.path("svc/notes.txt")).unwrap(),
        "mine"
    );
    assert_eq!(read_tree(&ctx.path("svc")).len(), 1);
    assert_eq!(
        ctx.entries(),
        vec!["svc"],
        "a temporary directory was left behind"
    );

    std::fs::write(ctx.path("file"), "x").unwrap();
    let err = stderr(&ctx.new_scaffold("file", &[]).code(2));
    assert!(err.contains("not a directory"), "{err}");
}

#[test]
fn an_empty_target_directory_is_used() {
    let ctx = TestContext::new();
    std::fs::create_dir(ctx.path("svc")).unwrap();
    ctx.new_scaffold("svc", &[]).success();
    assert!(ctx.path("svc/.git").is_dir());
    assert_eq!(ctx.entries(), vec!["svc"]);
}

#[test]
fn a_failed_write_leaves_nothing_behind() {
    let ctx = TestContext::new();
    // The parent "directory" is a file: creating the staging directory fails.
    std::fs::write(ctx.path("blocker"), "x").unwrap();
    let assert = ctx.new_scaffold("blocker/svc", &[]).code(3);
    assert!(stderr(&assert).starts_with("error: "));
    assert_eq!(ctx.entries(), vec!["blocker"]);
    assert_eq!(std::fs::read_to_string(ctx.path("blocker")).unwrap(), "x");
}

#[test]
fn dry_run_lists_the_plan_and_writes_nothing() {
    let ctx = TestContext::new();
    let out = stdout(&ctx.new_scaffold("svc", &["--dry-run"]).success());
    assert!(
        out.starts_with("Plan for `svc` (dry run: nothing is written)"),
        "{out}"
    );
    assert!(out.contains("  create    Dockerfile  ("), "{out}");
    assert_eq!(ctx.entries(), Vec::<String>::new());

    let json: serde_json::Value = serde_json::from_str(&stdout(
        &ctx.new_scaffold("svc", &["--dry-run", "--format", "json"])
            .success(),
    ))
    .unwrap();
    assert_eq!(json["dry_run"], true);
    let files = json["files"].as_array().unwrap();
    assert!(
        files
            .iter()
            .all(|f| f["action"] == "create" && f["size"].as_u64().unwrap() > 0)
    );

    let diff = stdout(&ctx.new_scaffold("svc", &["--dry-run", "--diff"]).success());
    assert!(
        diff.contains("--- /dev/null\n+++ b/Dockerfile\n"),
        "{}",
        &diff[..500.min(diff.len())]
    );
    assert_eq!(ctx.entries(), Vec::<String>::new());

    // The plan lists exactly what a real run writes.
    ctx.new_scaffold("svc", &[]).success();
    let written = read_tree(&ctx.path("svc"));
    let planned: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(
        planned,
        written.keys().map(String::as_str).collect::<Vec<_>>()
    );
    for f in files {
        assert_eq!(
            f["size"].as_u64().unwrap() as usize,
            written[f["path"].as_str().unwrap()].len()
        );
    }
}

#[test]
fn json_output_of_a_real_run_names_the_commit() {
    let ctx = TestContext::new();
    let json: serde_json::Value = serde_json::from_str(&stdout(
        &ctx.new_scaffold("svc", &["--format", "json"]).success(),
    ))
    .unwrap();
    let repo = git2::Repository::open(ctx.path("svc")).unwrap();
    assert_eq!(
        json["commit"],
        repo.head().unwrap().target().unwrap().to_string()
    );
    assert_eq!(json["dry_run"], false);
}

#[test]
fn no_git_skips_the_repository() {
    let ctx = TestContext::new();
    let out = stdout(&ctx.new_scaffold("svc", &["--no-git"]).success());
    assert!(out.contains("no git repository"), "{out}");
    assert!(!ctx.path("svc/.git").exists());
    assert!(ctx.path("svc/Dockerfile").is_file());
}

#[test]
fn without_a_git_identity_the_fallback_is_used_and_said() {
    let ctx = TestContext::bare();
    let assert = ctx.new_scaffold("svc", &[]).success();
    assert!(
        stderr(&assert).contains("no user.name/user.email"),
        "{}",
        stderr(&assert)
    );
    let repo = git2::Repository::open(ctx.path("svc")).unwrap();
    let commit = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(commit.author().name().unwrap(), "infra-new");
}

#[test]
fn the_scaffold_directory_has_normal_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let ctx = TestContext::new();
    ctx.new_scaffold("svc", &["--no-git"]).success();
    let mode = std::fs::metadata(ctx.path("svc"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    // Whatever the umask, the temporary directory's 0700 must not leak into the scaffold.
    assert_ne!(mode, 0o700, "mode {mode:o}");
}

#[test]
fn version_completions_and_man_page() {
    let ctx = TestContext::new();
    ctx.cmd()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = stdout(&ctx.cmd().args(["completions", shell]).assert().success());
        assert!(
            out.contains("infra-new") && out.contains("preset"),
            "{shell}"
        );
    }
    let man = stdout(&ctx.cmd().arg("man").assert().success());
    assert!(
        man.contains(".TH infra-new") && man.contains("new"),
        "{}",
        &man[..200.min(man.len())]
    );
    ctx.cmd().args(["completions", "tcsh"]).assert().code(2);
}
