//! `infra-new check` through the binary: every scaffold is clean (with Kustomize rendered by
//! kubectl when installed, and file by file without it), the exit codes, the three output
//! formats, `--explain` and `--drift`. The rules themselves are proven by the corpus
//! (check_corpus.rs).

use std::path::Path;

use serde_json::Value;

use crate::snapshots::{scaffold_names, scaffold_tree};
use crate::support::{TestContext, stderr, stdout};
use crate::validators::{tool, write_tree};

/// `check --format json` on `dir`, with `path` as PATH; the exit code and the parsed report.
fn check_json(ctx: &TestContext, dir: &Path, path: &str, extra: &[&str]) -> (i32, Value) {
    let output = ctx
        .cmd()
        .arg("check")
        .arg(dir)
        .args(["--format", "json"])
        .args(extra)
        .env("PATH", path)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "check's JSON does not parse ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    (output.status.code().unwrap(), report)
}

fn findings(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{}:{} {} {}", f["path"], f["line"], f["rule"], f["message"]))
        .collect()
}

#[test]
fn every_scaffold_passes_with_no_finding_rendered_and_file_by_file() {
    let ctx = TestContext::new();
    let kubectl = tool("kubectl");
    for name in scaffold_names() {
        let dir = ctx.path(&name);
        write_tree(&dir, &scaffold_tree(&name), |_| true);
        // File by file: no kubectl on PATH.
        let (code, report) = check_json(&ctx, &dir, "", &[]);
        assert_eq!(
            findings(&report),
            Vec::<String>::new(),
            "{name}, file by file"
        );
        assert_eq!(report["errors"], Value::Array(vec![]), "{name}");
        assert_eq!(code, 0, "{name}");
        assert!(
            report["notes"].to_string().contains("kubectl not found"),
            "{name}: the report says overlays were not rendered: {}",
            report["notes"]
        );
        assert!(
            report["files_checked"].as_u64().unwrap() > 50,
            "{name}: {}",
            report["files_checked"]
        );
        // Rendered: the overlays as Argo CD or Flux would apply them.
        if let Some(kubectl) = &kubectl {
            let (code, report) =
                check_json(&ctx, &dir, kubectl.parent().unwrap().to_str().unwrap(), &[]);
            assert_eq!(findings(&report), Vec::<String>::new(), "{name}, rendered");
            assert_eq!(
                report["notes"],
                Value::Array(vec![]),
                "{name}: rendering went through"
            );
            assert_eq!(code, 0, "{name}");
        }
    }
}

/// A small repository with one finding of each severity, one suppressed finding and one file
/// that does not parse.
fn messy_repo(ctx: &TestContext) -> std::path::PathBuf {
    let dir = ctx.path("messy");
    std::fs::create_dir_all(dir.join(".github/workflows")).unwrap();
    std::fs::write(
        dir.join(".github/workflows/ci.yml"),
        "name: ci\non: push\npermissions:\n  contents: read\njobs:\n  test:\n    runs-on: ubuntu-24.04\n    steps:\n    # infra-new:ignore CI001 internal action, pinned by our own tags\n    - uses: acme/setup@v1\n    - uses: actions/checkout@v4\n",
    )
    .unwrap();
    std::fs::write(dir.join("broken.yaml"), "a: [1, 2\nb: 3\n").unwrap();
    dir
}

#[test]
fn findings_exit_1_unreadable_files_exit_2_and_the_run_goes_on() {
    let ctx = TestContext::new();
    let dir = messy_repo(&ctx);
    let (code, report) = check_json(&ctx, &dir, "", &[]);
    assert_eq!(code, 2, "a file that does not parse wins over findings");
    let found = findings(&report);
    assert!(
        found
            .iter()
            .any(|f| f.contains("\"CI001\"") && f.contains(":11 ")),
        "the other files are still checked: {found:?}"
    );
    assert_eq!(report["errors"][0]["path"], "broken.yaml");
    assert!(
        report["errors"][0]["line"].as_u64().is_some(),
        "{}",
        report["errors"]
    );
    assert_eq!(report["suppressed"][0]["rule"], "CI001");
    assert_eq!(report["suppressed"][0]["line"], 10);
    assert_eq!(
        report["suppressed"][0]["reason"],
        "internal action, pinned by our own tags"
    );

    std::fs::remove_file(dir.join("broken.yaml")).unwrap();
    let (code, _) = check_json(&ctx, &dir, "", &[]);
    assert_eq!(code, 1);

    let clean = ctx.path("clean");
    std::fs::create_dir_all(&clean).unwrap();
    std::fs::write(clean.join("README.md"), "# hello\n").unwrap();
    let (code, report) = check_json(&ctx, &clean, "", &[]);
    assert_eq!((code, report["files_checked"].as_u64()), (0, Some(1)));
}

#[test]
fn human_output_groups_by_file_with_line_rule_and_fix_and_a_summary() {
    let ctx = TestContext::new();
    let dir = messy_repo(&ctx);
    let assert = ctx
        .cmd()
        .arg("check")
        .arg(&dir)
        .env("PATH", "")
        .assert()
        .code(2);
    let out = stdout(&assert);
    assert!(
        !out.contains('\u{1b}'),
        "no color when stdout is not a terminal:\n{out}"
    );
    let file = out.find(".github/workflows/ci.yml\n").expect(&out);
    let finding = out.find("  11  error    CI001").expect(&out);
    assert!(file < finding, "the finding is under its file:\n{out}");
    assert!(out.contains("fix: "), "{out}");
    assert!(out.contains("error: broken.yaml:"), "{out}");
    assert!(out.contains("1 suppressed"), "{out}");
    let colored = stdout(
        &ctx.cmd()
            .arg("check")
            .arg(&dir)
            .args(["--color", "always"])
            .env("PATH", "")
            .assert()
            .code(2),
    );
    assert!(colored.contains("\u{1b}["), "--color always colors");
}

#[test]
fn sarif_has_the_rule_table_results_suppressions_and_notifications() {
    let ctx = TestContext::new();
    let dir = messy_repo(&ctx);
    let output = ctx
        .cmd()
        .arg("check")
        .arg(&dir)
        .args(["--format", "sarif"])
        .env("PATH", "")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let sarif: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "infra-new");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), infra_new::check::rules::all().count());
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            rules[index]["id"], result["ruleId"],
            "ruleIndex points at the rule"
        );
        assert!(matches!(
            result["level"].as_str(),
            Some("error" | "warning")
        ));
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert!(
            !location["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .starts_with('/'),
            "relative uri"
        );
        if let Some(line) = location["region"]["startLine"].as_u64() {
            assert!(line >= 1);
        }
    }
    let suppressed: Vec<_> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["suppressions"][0]["kind"], "inSource");
    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert_eq!(
        invocation["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
            ["uri"],
        "broken.yaml"
    );
}

#[test]
fn explain_documents_every_rule_and_names_the_valid_ids_for_a_wrong_one() {
    let ctx = TestContext::new();
    let all = stdout(
        &ctx.cmd()
            .args(["check", "--explain", "all"])
            .assert()
            .success(),
    );
    for rule in infra_new::check::rules::all() {
        assert!(all.contains(rule.id), "{} listed", rule.id);
        let one = stdout(
            &ctx.cmd()
                .args(["check", "--explain", &rule.id.to_lowercase()])
                .assert()
                .success(),
        );
        assert!(one.starts_with(&format!("{} (", rule.id)), "{one}");
        assert!(one.contains(rule.fix), "{one}");
    }
    let assert = ctx
        .cmd()
        .args(["check", "--explain", "DF999"])
        .assert()
        .code(2);
    let err = stderr(&assert);
    assert!(
        err.contains("no rule `DF999`") && err.contains("CHK001"),
        "{err}"
    );
    assert!(stdout(&assert).is_empty());
}

#[test]
fn a_path_that_is_not_a_directory_is_bad_usage() {
    let ctx = TestContext::new();
    let err = stderr(&ctx.cmd().args(["check", "no-such-dir"]).assert().code(2));
    assert!(
        err.contains("no-such-dir") && err.contains("no such directory"),
        "{err}"
    );
}

#[test]
fn drift_tells_edits_from_template_changes_and_points_to_upgrade() {
    let ctx = TestContext::new();
    ctx.new_scaffold("svc", &[]).success();
    let dir = ctx.path("svc");
    let (code, report) = check_json(&ctx, &dir, "", &["--drift"]);
    assert_eq!(
        (code, findings(&report)),
        (0, vec![]),
        "a fresh scaffold has no drift"
    );

    // Templates that changed one file since the render, and a team edit of another.
    let templates = crate::upgrade::templates(crate::upgrade::monitoring_title_change);
    std::fs::write(dir.join("README.md"), "# ours now\n").unwrap();
    std::fs::remove_file(dir.join("docs/rollback.md")).unwrap();
    let template_dir = templates.path().to_str().unwrap();
    let (code, report) = check_json(&ctx, &dir, "", &["--drift", "--template-dir", template_dir]);
    assert_eq!(code, 1);
    let by_path: std::collections::BTreeMap<String, String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        by_path.keys().collect::<Vec<_>>(),
        ["README.md", "docs/monitoring.md", "docs/rollback.md"],
        "{by_path:#?}"
    );
    assert!(
        by_path["docs/monitoring.md"].starts_with("changed in the templates"),
        "{by_path:#?}"
    );
    assert!(
        by_path["README.md"].starts_with("edited here;"),
        "{by_path:#?}"
    );
    assert!(
        by_path["docs/rollback.md"].starts_with("deleted here"),
        "{by_path:#?}"
    );

    let human = stdout(
        &ctx.cmd()
            .arg("check")
            .arg(&dir)
            .args(["--drift", "--template-dir", template_dir])
            .assert()
            .code(1),
    );
    assert!(human.contains("infra-new upgrade"), "{human}");

    let err = stderr(
        &ctx.cmd()
            .arg("check")
            .arg(templates.path())
            .arg("--drift")
            .assert()
            .code(2),
    );
    assert!(err.contains("not an infra-new scaffold"), "{err}");
}
