//! The rule corpus: `tests/check-corpus/<family>/<case>/` is a small repository, and its
//! `expected` file lists, one per line, what `infra-new check` must report there, exactly:
//!
//! ```text
//! Dockerfile:3 DF003          a finding of rule DF003 on line 3
//! Dockerfile DF006            a finding about the whole file
//! Dockerfile:9 DF004 ignored  a finding an inline comment suppressed
//! broken.yaml:4 error         the file could not be parsed (its error names line 4)
//! broken.yaml error           the file could not be read or parsed (no line)
//! ```
//!
//! Blank lines and lines starting with `#` are comments. An empty list means a good sample:
//! nothing may be reported. The corpus runs without kubectl (Kustomize trees file by file);
//! rendering is covered in `check_kustomize.rs`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use infra_new::check::{self, Options, Report};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/check-corpus")
}

/// What a report says, in the `expected` file's notation.
fn observed(report: &Report) -> BTreeSet<String> {
    let at = |path: &str, line: Option<usize>| match line {
        Some(line) => format!("{path}:{line}"),
        None => path.to_owned(),
    };
    let mut lines = BTreeSet::new();
    for f in &report.findings {
        lines.insert(format!("{} {}", at(&f.path, f.line), f.rule.id));
    }
    for s in &report.suppressed {
        lines.insert(format!(
            "{} {} ignored",
            at(&s.finding.path, s.finding.line),
            s.finding.rule.id
        ));
    }
    for e in &report.errors {
        lines.insert(format!("{} error", at(&e.path, e.line)));
    }
    lines
}

fn expected(case: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(case.join("expected"))
        .unwrap_or_else(|e| panic!("{}: expected: {e}", case.display()));
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// Every case directory (one holding an `expected` file), sorted.
fn cases() -> Vec<PathBuf> {
    let mut cases = Vec::new();
    for family in std::fs::read_dir(corpus()).expect("tests/check-corpus") {
        let family = family.unwrap().path();
        if !family.is_dir() {
            continue;
        }
        for case in std::fs::read_dir(&family).unwrap() {
            let case = case.unwrap().path();
            if case.join("expected").is_file() {
                cases.push(case);
            }
        }
    }
    cases.sort();
    cases
}

/// Copies a case out of the project tree: the walk honours `.gitignore` files, and the
/// project's own must not decide what a sample contains.
fn staged(case: &Path) -> assert_fs::TempDir {
    let dir = assert_fs::TempDir::new().unwrap();
    crate::upgrade::copy_dir(case, dir.path());
    std::fs::remove_file(dir.path().join("expected")).unwrap();
    dir
}

#[test]
fn every_case_reports_exactly_what_it_expects() {
    let cases = cases();
    assert!(
        !cases.is_empty(),
        "no corpus cases under {}",
        corpus().display()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let dir = staged(case);
        let report = check::check(dir.path(), &Options::default()).unwrap();
        let (want, got) = (expected(case), observed(&report));
        if want != got {
            let name = case.strip_prefix(corpus()).unwrap().display().to_string();
            let missing: Vec<_> = want.difference(&got).collect();
            let extra: Vec<_> = got.difference(&want).collect();
            let messages: Vec<_> = report.findings.iter().map(ToString::to_string).collect();
            failures.push(format!("{name}\n  missing: {missing:?}\n  unexpected: {extra:?}\n  all findings: {messages:#?}\n  errors: {:?}", report.errors));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Every rule has at least one bad sample that reports it, so no rule is untested. DRIFT001 is
/// only reported by `--drift`, which compares with a render: check.rs tests it.
#[test]
fn every_rule_is_caught_by_some_case() {
    let mut caught = BTreeSet::new();
    for case in cases() {
        for line in expected(&case) {
            if let Some(id) = line.split_whitespace().nth(1) {
                caught.insert(id.to_owned());
            }
        }
    }
    let missing: Vec<_> = check::rules::all()
        .map(|r| r.id)
        .filter(|id| *id != "DRIFT001" && !caught.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "rules without a corpus case: {missing:?}"
    );
}
