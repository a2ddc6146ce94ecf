//! `infra-new upgrade` and `infra-new init` on real git repositories. Template changes come from
//! a copy of `templates/` edited by the test and passed with the hidden `--template-dir`, never
//! from the real templates. Each scenario asserts the resulting files, the conflicts and the exit
//! code; `--abort` must restore the work tree byte for byte.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_fs::TempDir;

use crate::support::{TEST_EMAIL, TEST_NAME, TestContext, read_tree};

/// A scaffold made by `new` in a hermetic context, with git available to the test.
struct Scaffold {
    ctx: TestContext,
    root: PathBuf,
}

impl Scaffold {
    fn new(extra: &[&str]) -> Scaffold {
        let ctx = TestContext::new();
        ctx.new_scaffold("svc", extra).success();
        let root = ctx.path("svc");
        Scaffold { ctx, root }
    }

    /// A scaffold made by `new svc --preset default --yes` with every other answer from `sets`
    /// (`KEY=VALUE`, later ones winning).
    fn with_sets(sets: &[&str]) -> Scaffold {
        let ctx = TestContext::new();
        ctx.cmd()
            .args(["new", "svc"])
            .args(set_args(sets))
            .assert()
            .success();
        let root = ctx.path("svc");
        Scaffold { ctx, root }
    }

    /// A directory of the test's temp dir, not (yet) a scaffold: for clones.
    fn at(name: &str) -> Scaffold {
        let ctx = TestContext::new();
        let root = ctx.path(name);
        Scaffold { ctx, root }
    }

    /// `infra-new upgrade --template-dir <next>` plus `extra`.
    fn upgrade(&self, next: &TempDir, extra: &[&str]) -> assert_cmd::assert::Assert {
        let dir = dir_arg(next);
        let mut args = vec!["upgrade", "--template-dir", &dir];
        args.extend_from_slice(extra);
        self.infra_new(&args)
    }

    /// `upgrade --abort` succeeds and leaves exactly `before`: the files, HEAD, a clean status
    /// and no merge state.
    fn abort_restores(&self, before: &BTreeMap<String, Vec<u8>>, head: &str) {
        self.infra_new(&["upgrade", "--abort"]).code(0);
        assert_files(&self.files(), before, "after --abort");
        assert_eq!(self.git(&["rev-parse", "HEAD"]), head);
        assert_eq!(self.status(), "");
        assert!(!self.root.join(".git/MERGE_HEAD").exists());
    }

    /// The id git gives a file with `contents`.
    fn blob_id(&self, contents: &[u8]) -> String {
        let file = self.ctx.path("blob");
        std::fs::write(&file, contents).unwrap();
        self.git(&["hash-object", file.to_str().unwrap()])
            .trim()
            .to_string()
    }

    fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }

    /// Every file below `.git`: to prove a command wrote nothing there.
    fn git_dir(&self) -> BTreeMap<String, Vec<u8>> {
        read_tree(&self.root.join(".git"))
    }

    fn infra_new(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        self.ctx.cmd().current_dir(&self.root).args(args).assert()
    }

    fn git_output(&self, args: &[&str]) -> std::process::Output {
        Command::new("git")
            .args(args)
            .current_dir(&self.root)
            .env("HOME", &self.ctx.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", TEST_NAME)
            .env("GIT_AUTHOR_EMAIL", TEST_EMAIL)
            .env("GIT_COMMITTER_NAME", TEST_NAME)
            .env("GIT_COMMITTER_EMAIL", TEST_EMAIL)
            .output()
            .unwrap()
    }

    fn git(&self, args: &[&str]) -> String {
        let out = self.git_output(args);
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.root.join(path)).unwrap()
    }

    /// Replaces `from` with `to` in the work tree's `path` (exactly once).
    fn replace_in(&self, path: &str, from: &str, to: &str) {
        self.write(path, &edit(&self.read(path), from, to));
    }

    fn write(&self, path: &str, contents: &str) {
        std::fs::write(self.root.join(path), contents).unwrap();
    }

    /// Commits every change in the work tree.
    fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    /// Every file of the work tree, `.git` excluded.
    fn files(&self) -> BTreeMap<String, Vec<u8>> {
        read_tree(&self.root)
            .into_iter()
            .filter(|(p, _)| !p.starts_with(".git/"))
            .collect()
    }

    fn status(&self) -> String {
        self.git(&["status", "--porcelain"])
    }
}

/// A copy of the real templates with `edit` applied: the "next version" an upgrade brings.
pub(crate) fn templates(edit: impl FnOnce(&Path)) -> TempDir {
    let dir = TempDir::new().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
        dir.path(),
    );
    edit(dir.path());
    dir
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Replaces `from` with `to` in template `path` (exactly once).
pub(crate) fn replace(dir: &Path, path: &str, from: &str, to: &str) {
    let file = dir.join(path);
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.matches(from).count(), 1, "{path}: `{from}`");
    std::fs::write(&file, text.replacen(from, to, 1)).unwrap();
}

fn dir_arg(t: &TempDir) -> String {
    t.path().display().to_string()
}

/// Writes template `path` (directories created) in a template copy.
fn add_template(dir: &Path, path: &str, contents: &[u8]) {
    let file = dir.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, contents).unwrap();
}

/// `--preset default --yes` and the answers of [`TestContext::new_scaffold`] as `--set`, then
/// `sets`: flags would win over `--set`, so none are used.
fn set_args(sets: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["--preset", "default", "--yes"].map(String::from).into();
    for pair in ["org=acme", "account=111122223333"].iter().chain(sets) {
        args.push("--set".into());
        args.push(pair.to_string());
    }
    args
}

/// What `new svc --no-git` renders (as [`Scaffold::new`] does, with `templates` if given).
fn rendered(templates: Option<&TempDir>) -> BTreeMap<String, Vec<u8>> {
    let ctx = TestContext::new();
    let mut extra = vec!["--no-git".to_string()];
    if let Some(t) = templates {
        extra.extend(["--template-dir".to_string(), dir_arg(t)]);
    }
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    ctx.new_scaffold("svc", &extra).success();
    read_tree(&ctx.path("svc"))
}

/// What `new svc --no-git` renders with the answers of [`set_args`].
fn rendered_with_sets(sets: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let ctx = TestContext::new();
    ctx.cmd()
        .args(["new", "svc", "--no-git"])
        .args(set_args(sets))
        .assert()
        .success();
    read_tree(&ctx.path("svc"))
}

/// The per-file lines of an upgrade's report, as `action path`.
fn actions(out: &assert_cmd::assert::Assert) -> Vec<String> {
    crate::support::stdout(out)
        .lines()
        .filter(|l| l.starts_with("  "))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// `actual` and `expected` hold the same paths with the same bytes; a failure names the paths
/// that differ instead of printing every file.
fn assert_files(
    actual: &BTreeMap<String, Vec<u8>>,
    expected: &BTreeMap<String, Vec<u8>>,
    what: &str,
) {
    let differ: Vec<String> = actual
        .keys()
        .chain(expected.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|p| actual.get(*p) != expected.get(*p))
        .map(|p| match (actual.get(p), expected.get(p)) {
            (Some(a), Some(e)) => format!(
                "{p}: differs\n--- actual\n{}\n--- expected\n{}",
                String::from_utf8_lossy(a),
                String::from_utf8_lossy(e)
            ),
            (Some(_), None) => format!("{p}: unexpected"),
            _ => format!("{p}: missing"),
        })
        .collect();
    assert!(differ.is_empty(), "{what}:\n{}", differ.join("\n"));
}

/// `map` with `path` set to `contents`.
fn with(
    map: &BTreeMap<String, Vec<u8>>,
    path: &str,
    contents: impl Into<Vec<u8>>,
) -> BTreeMap<String, Vec<u8>> {
    let mut map = map.clone();
    map.insert(path.to_string(), contents.into());
    map
}

/// `map` without `path` (which it must hold).
fn without(map: &BTreeMap<String, Vec<u8>>, path: &str) -> BTreeMap<String, Vec<u8>> {
    let mut map = map.clone();
    assert!(map.remove(path).is_some(), "{path}");
    map
}

fn text(map: &BTreeMap<String, Vec<u8>>, path: &str) -> String {
    String::from_utf8(map[path].clone()).unwrap()
}

/// `text` with `from` replaced by `to`, exactly once.
fn edit(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "`{from}`");
    text.replacen(from, to, 1)
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A conflict hunk as the upgrade writes it (git's "merge" style, labels `yours` and the
/// render's version).
fn hunk(yours: &str, theirs: &str) -> String {
    format!("<<<<<<< yours\n{yours}=======\n{theirs}>>>>>>> infra-new {VERSION}\n")
}

/// The next templates change the third line of docs/troubleshooting.md.
/// The next templates retitle docs/monitoring.md (its first line).
pub(crate) fn monitoring_title_change(t: &Path) {
    replace(
        t,
        "docs/monitoring.md.j2",
        "# Monitoring, SLOs and alerts",
        "# Monitoring, SLOs and alerts (next)",
    );
}

fn troubleshooting_change(t: &Path) {
    replace(
        t,
        "docs/troubleshooting.md.j2",
        "Start here when CI fails",
        "START here when CI fails",
    );
}

#[test]
fn upgrading_with_the_same_templates_is_a_no_op() {
    let s = Scaffold::new(&[]);
    let before = s.files();
    let head = s.git(&["rev-parse", "HEAD"]);
    let out = s.infra_new(&["upgrade"]).success();
    assert!(crate::support::stdout(&out).contains("Already up to date"));
    assert_eq!(s.files(), before);
    assert_eq!(s.git(&["rev-parse", "HEAD"]), head);
}

#[test]
fn a_template_change_away_from_the_teams_edit_merges_and_a_second_upgrade_is_a_no_op() {
    let s = Scaffold::new(&[]);
    let readme = s.read("README.md").replacen("\n", "\nTeam note.\n", 1);
    s.write("README.md", &readme);
    s.commit("team edit");
    let next = templates(monitoring_title_change);
    let out = s
        .infra_new(&["upgrade", "--template-dir", &dir_arg(&next)])
        .code(0);
    let text = crate::support::stdout(&out);
    assert!(text.contains("update       docs/monitoring.md"), "{text}");
    assert_eq!(s.read("README.md"), readme);
    assert!(
        s.read("docs/monitoring.md")
            .starts_with("# Monitoring, SLOs and alerts (next)\n")
    );
    assert_eq!(s.status(), "");
    // The merge has the render as its second parent, and that render is the next base.
    let parents = s.git(&["log", "-1", "--format=%P"]);
    assert_eq!(parents.split_whitespace().count(), 2);
    let head = s.git(&["rev-parse", "HEAD"]);
    s.infra_new(&["upgrade", "--template-dir", &dir_arg(&next)])
        .code(0);
    assert_eq!(s.git(&["rev-parse", "HEAD"]), head);
}

#[test]
fn a_conflict_is_a_real_git_conflict_and_abort_restores_every_byte() {
    let s = Scaffold::new(&[]);
    s.write(
        "docs/monitoring.md",
        &s.read("docs/monitoring.md").replacen(
            "# Monitoring, SLOs and alerts",
            "# Our monitoring",
            1,
        ),
    );
    s.commit("team edit");
    let before = s.files();
    let head = s.git(&["rev-parse", "HEAD"]);
    let next = templates(monitoring_title_change);
    let out = s
        .infra_new(&["upgrade", "--template-dir", &dir_arg(&next)])
        .code(1);
    assert!(crate::support::stdout(&out).contains("conflict     docs/monitoring.md"));
    assert_eq!(s.status(), "UU docs/monitoring.md\n");
    let text = s.read("docs/monitoring.md");
    assert!(text.starts_with(
        "<<<<<<< yours\n# Our monitoring\n=======\n# Monitoring, SLOs and alerts (next)\n>>>>>>> infra-new "
    ), "{text}");
    s.infra_new(&["upgrade", "--abort"]).code(0);
    assert_eq!(s.files(), before);
    assert_eq!(s.status(), "");
    assert_eq!(s.git(&["rev-parse", "HEAD"]), head);
    assert!(!s.root.join(".git/MERGE_HEAD").exists());

    // git's own abort does the same.
    s.infra_new(&["upgrade", "--template-dir", &dir_arg(&next)])
        .code(1);
    s.git(&["merge", "--abort"]);
    assert_eq!(s.files(), before);
    assert_eq!(s.status(), "");
}

#[test]
fn a_dirty_work_tree_is_refused_and_nothing_changes() {
    let s = Scaffold::new(&[]);
    s.write("README.md", "changed\n");
    s.write("notes.txt", "untracked\n");
    let before = s.files();
    let out = s.infra_new(&["upgrade", "--set", "rollout=canary"]).code(2);
    let err = crate::support::stderr(&out);
    assert!(
        err.contains("uncommitted changes")
            && err.contains("README.md")
            && err.contains("notes.txt"),
        "{err}"
    );
    assert_eq!(s.files(), before);
}

#[test]
fn outside_a_repository_upgrade_says_what_to_do() {
    let ctx = TestContext::new();
    ctx.new_scaffold("svc", &["--no-git"]).success();
    let out = ctx
        .cmd()
        .current_dir(ctx.path("svc"))
        .args(["upgrade"])
        .assert()
        .code(2);
    let err = crate::support::stderr(&out);
    assert!(
        err.contains("not inside a git repository") && err.contains("infra-new init"),
        "{err}"
    );
}

#[test]
fn changing_an_answer_adds_and_removes_files_and_keeps_edits() {
    let s = Scaffold::new(&[]);
    let readme = s.read("README.md").replacen("\n", "\nTeam note.\n", 1);
    s.write("README.md", &readme);
    s.commit("team edit");
    s.infra_new(&["upgrade", "--set", "rollout=canary"]).code(0);
    assert!(
        s.root
            .join("deploy/kubernetes/components/canary/rollout.yaml")
            .is_file()
    );
    assert!(s.read(".infra-new.toml").contains("rollout = \"canary\""));
    assert!(s.read("README.md").contains("Team note."));
    assert_eq!(s.status(), "");
    // And back: the canary files go away again, the edit stays.
    s.infra_new(&["upgrade", "--set", "rollout=rolling"])
        .code(0);
    assert!(!s.root.join("deploy/kubernetes/components/canary").exists());
    assert!(s.read("README.md").contains("Team note."));
}

#[test]
fn init_adopts_a_repository_without_touching_its_code() {
    let ctx = TestContext::new();
    let root = ctx.path("svc");
    std::fs::create_dir(&root).unwrap();
    let s = Scaffold { ctx, root };
    s.git(&["init", "-q", "-b", "main"]);
    s.write("go.mod", "module example.com/svc\n\ngo 1.22\n");
    s.write("main.go", "package main\n\nfunc main() {}\n");
    s.write("README.md", "# svc\n");
    s.commit("our code");
    let out = s
        .infra_new(&[
            "init",
            "--org",
            "acme",
            "--account",
            "111122223333",
            "--yes",
        ])
        .code(1);
    let text = crate::support::stdout(&out);
    assert!(text.contains("conflict     README.md"), "{text}");
    assert_eq!(s.read("main.go"), "package main\n\nfunc main() {}\n");
    assert_eq!(s.read("go.mod"), "module example.com/svc\n\ngo 1.22\n");
    assert!(
        !s.root.join("server.go").exists(),
        "no skeleton in an adopted repository"
    );
    let toml = s.read(".infra-new.toml");
    assert!(
        toml.contains("adopted = true") && toml.contains("language = \"go\""),
        "{toml}"
    );
    assert!(s.status().contains("AA README.md"));
}

// --- Edits next to and away from a template change ---------------------------------------------

const LINES_3_4: &str = "Start here when CI fails or a deploy does not arrive. For alerts in a running environment, use the\nrunbook linked from the alert (`docs/runbooks/<AlertName>.md`).\n";

#[test]
fn an_edit_on_the_line_next_to_a_template_change_conflicts() {
    let s = Scaffold::new(&[]);
    let path = "docs/troubleshooting.md";
    let ours = edit(&s.read(path), "runbook linked from", "RUNBOOK linked from");
    s.write(path, &ours);
    s.commit("team edit");
    let (before, head) = (s.files(), s.head());
    let next = templates(troubleshooting_change);

    let out = s.upgrade(&next, &[]).code(1);
    assert_eq!(actions(&out), ["conflict docs/troubleshooting.md"]);
    assert_eq!(s.status(), "UU docs/troubleshooting.md\n");
    // git's rule: changes to adjacent lines form one hunk, so they conflict.
    let conflict = edit(
        &ours,
        &edit(LINES_3_4, "runbook linked", "RUNBOOK linked"),
        &hunk(
            &edit(LINES_3_4, "runbook linked", "RUNBOOK linked"),
            &edit(LINES_3_4, "Start here", "START here"),
        ),
    );
    assert_files(&s.files(), &with(&before, path, conflict), "conflict");
    s.abort_restores(&before, &head);
}

#[test]
fn an_edit_three_lines_from_a_template_change_merges() {
    let s = Scaffold::new(&[]);
    let path = "docs/troubleshooting.md";
    // Line 6; the template changes line 3.
    s.replace_in(path, "## CI failed: triage", "## CI failed: how to triage");
    s.commit("team edit");
    let before = s.files();
    let next = templates(troubleshooting_change);

    let out = s.upgrade(&next, &[]).code(0);
    assert_eq!(actions(&out), ["merge docs/troubleshooting.md"]);
    let merged = edit(
        &text(&rendered(Some(&next)), path),
        "## CI failed: triage",
        "## CI failed: how to triage",
    );
    assert!(merged.contains("START here when CI fails"));
    assert_files(&s.files(), &with(&before, path, merged), "merged");
    assert_eq!(s.status(), "");
    assert!(
        s.git(&["log", "-1", "--format=%B", "HEAD^2"])
            .ends_with(&format!("Infra-New-Render: {VERSION}\n\n"))
    );
}

// --- Deletions, additions, removals, renames ---------------------------------------------------

#[test]
fn a_file_the_team_deleted_and_the_template_leaves_alone_stays_deleted() {
    let s = Scaffold::new(&[]);
    s.git(&["rm", "-q", "docs/rollback.md"]);
    s.commit("we roll back differently");
    let next = templates(troubleshooting_change);

    let out = s.upgrade(&next, &[]).code(0);
    assert_eq!(
        actions(&out),
        [
            "keep-deleted docs/rollback.md",
            "update docs/troubleshooting.md"
        ]
    );
    assert_files(
        &s.files(),
        &without(&rendered(Some(&next)), "docs/rollback.md"),
        "after the upgrade",
    );
    assert_eq!(s.status(), "");
}

#[test]
fn a_file_the_team_deleted_and_the_template_changed_is_a_modify_delete_conflict() {
    let s = Scaffold::new(&[]);
    let path = "docs/troubleshooting.md";
    s.git(&["rm", "-q", path]);
    s.commit("no troubleshooting guide");
    let (before, head) = (s.files(), s.head());
    let next = templates(troubleshooting_change);

    let out = s.upgrade(&next, &[]).code(1);
    assert_eq!(actions(&out), ["conflict docs/troubleshooting.md"]);
    assert_eq!(s.status(), "DU docs/troubleshooting.md\n");
    let stages: Vec<String> = s
        .git(&["ls-files", "-u", path])
        .lines()
        .map(|l| l.split_whitespace().nth(2).unwrap().to_string())
        .collect();
    assert_eq!(stages, ["1", "3"], "base and render, no stage of yours");
    // As with `git merge`, the render's side is in the work tree for the team to keep or delete.
    let render = text(&rendered(Some(&next)), path);
    assert_files(&s.files(), &with(&before, path, render), "conflict");
    s.abort_restores(&before, &head);
}

const FAQ: &str = "# FAQ for {{ name }}\n\nAsk the team.\n";
const FAQ_RENDERED: &str = "# FAQ for svc\n\nAsk the team.\n";

#[test]
fn a_file_the_template_adds_is_created() {
    let s = Scaffold::new(&[]);
    let before = s.files();
    let next = templates(|t| add_template(t, "docs/faq.md.j2", FAQ.as_bytes()));

    let out = s.upgrade(&next, &[]).code(0);
    assert_eq!(actions(&out), ["create docs/faq.md"]);
    assert_files(
        &s.files(),
        &with(&before, "docs/faq.md", FAQ_RENDERED),
        "added",
    );
    assert_eq!(s.status(), "");
}

#[test]
fn a_file_the_template_adds_where_the_team_has_one_is_an_add_add_conflict() {
    let s = Scaffold::new(&[]);
    s.write("docs/faq.md", "Our FAQ\n");
    s.commit("our faq");
    let (before, head) = (s.files(), s.head());
    let next = templates(|t| add_template(t, "docs/faq.md.j2", FAQ.as_bytes()));

    let out = s.upgrade(&next, &[]).code(1);
    assert_eq!(actions(&out), ["conflict docs/faq.md"]);
    assert_eq!(s.status(), "AA docs/faq.md\n");
    assert_files(
        &s.files(),
        &with(&before, "docs/faq.md", hunk("Our FAQ\n", FAQ_RENDERED)),
        "conflict",
    );
    s.abort_restores(&before, &head);
}

#[test]
fn a_file_the_template_drops_is_removed() {
    let s = Scaffold::new(&[]);
    let before = s.files();
    let next = templates(|t| std::fs::remove_file(t.join("docs/incident-response.md.j2")).unwrap());

    let out = s.upgrade(&next, &[]).code(0);
    assert_eq!(actions(&out), ["remove docs/incident-response.md"]);
    assert_files(
        &s.files(),
        &without(&before, "docs/incident-response.md"),
        "removed",
    );
    assert_eq!(s.status(), "");
}

#[test]
fn a_file_the_template_drops_but_the_team_edited_is_a_conflict() {
    let s = Scaffold::new(&[]);
    let path = "docs/incident-response.md";
    s.replace_in(path, "# Incident response", "# Our incident response");
    s.commit("team edit");
    let (before, head) = (s.files(), s.head());
    let next = templates(|t| std::fs::remove_file(t.join("docs/incident-response.md.j2")).unwrap());

    let out = s.upgrade(&next, &[]).code(1);
    assert_eq!(actions(&out), ["conflict docs/incident-response.md"]);
    assert_eq!(s.status(), "UD docs/incident-response.md\n");
    // The team's file stays in the work tree.
    assert_files(&s.files(), &before, "conflict");
    s.abort_restores(&before, &head);
}

/// The new path is reported as `merge`, as it carries the team's edit (it was reported as
/// `create`, as if the edit were lost with the old path).
#[test]
fn a_template_rename_takes_the_teams_edit_to_the_new_path() {
    let s = Scaffold::new(&[]);
    let old = "docs/troubleshooting.md";
    let ours = edit(
        &s.read(old),
        "## CI failed: triage",
        "## CI failed: how to triage",
    );
    s.write(old, &ours);
    s.commit("team edit");
    let before = s.files();
    let next = templates(|t| {
        std::fs::create_dir(t.join("docs/guides")).unwrap();
        std::fs::rename(
            t.join("docs/troubleshooting.md.j2"),
            t.join("docs/guides/troubleshooting.md.j2"),
        )
        .unwrap();
    });

    let out = s.upgrade(&next, &[]).code(0);
    assert_eq!(
        actions(&out),
        [
            "merge docs/guides/troubleshooting.md",
            "remove docs/troubleshooting.md"
        ]
    );
    assert_files(
        &s.files(),
        &with(
            &without(&before, old),
            "docs/guides/troubleshooting.md",
            ours,
        ),
        "renamed",
    );
    assert_eq!(s.status(), "");
}

// --- Every answer changed with `--set` ---------------------------------------------------------

/// The file the team edits: no answer changes it.
const UNTOUCHED: &str = "ci/smoke-test.sh";
const AZURE: &[&str] = &[
    "cloud=azure",
    "account=00000000-0000-0000-0000-000000000001",
    "tenant=00000000-0000-0000-0000-000000000002",
    "region=eastus",
];

/// A scaffold made with `base`, one team edit in [`UNTOUCHED`], then `upgrade --set` each of
/// `sets`: exit 0, `.infra-new.toml` records each of `records`, the edit is kept, and every
/// other file is what `new` renders with the new answers.
fn answer_change(base: &[&str], sets: &[&str], records: &[&str]) {
    let what = format!("upgrade --set {}", sets.join(" --set "));
    let s = Scaffold::with_sets(base);
    let original = s.read(UNTOUCHED);
    let ours = format!("{original}# Team: our own checks follow.\n");
    s.write(UNTOUCHED, &ours);
    s.commit("team edit");
    let expected = rendered_with_sets(&[base, sets].concat());
    assert_eq!(
        text(&expected, UNTOUCHED),
        original,
        "{what}: the change must not touch {UNTOUCHED}"
    );
    assert_ne!(
        expected,
        rendered_with_sets(base),
        "{what}: the change must change the render"
    );

    let mut args = vec!["upgrade"];
    for pair in sets {
        args.extend(["--set", pair]);
    }
    let out = s.infra_new(&args).code(0);
    assert!(
        !actions(&out).iter().any(|a| a.starts_with("conflict")),
        "{what}: {:?}",
        actions(&out)
    );
    let toml = s.read(".infra-new.toml");
    for line in records {
        assert!(
            toml.lines().any(|l| l == *line),
            "{what}: `{line}` in .infra-new.toml:\n{toml}"
        );
    }
    assert_files(&s.files(), &with(&expected, UNTOUCHED, ours), &what);
    assert_eq!(s.status(), "", "{what}");
    assert_eq!(
        s.git(&["log", "-1", "--format=%P"])
            .split_whitespace()
            .count(),
        2,
        "{what}: a merge commit"
    );
}

macro_rules! answer_change {
    ($($test:ident: base $base:expr, set $sets:expr, records $records:expr;)*) => {$(
        #[test]
        fn $test() {
            answer_change($base, $sets, $records);
        }
    )*};
}

answer_change! {
    changing_the_name: base &[], set &["name=billing"], records &["name = \"billing\""];
    changing_the_language: base &[], set &["language=python"], records &["language = \"python\""];
    changing_the_cloud: base &[],
        set &["cloud=gcp", "account=acme-svc", "region=us-central1"],
        records &["cloud = \"gcp\"", "account = \"acme-svc\"", "region = \"us-central1\""];
    changing_the_cloud_to_azure: base &[], set AZURE,
        records &["cloud = \"azure\"", "tenant = \"00000000-0000-0000-0000-000000000002\""];
    changing_the_registry: base &[], set &["registry=dockerhub"], records &["registry = \"dockerhub\""];
    changing_the_rollout: base &[], set &["rollout=blue-green"], records &["rollout = \"blue-green\""];
    changing_the_ci: base &[], set &["ci=gitlab", "registry=ecr"],
        records &["ci = \"gitlab\"", "registry = \"ecr\""];
    changing_the_gitops_engine: base &[], set &["gitops=flux"], records &["gitops = \"flux\""];
    changing_the_org: base &[], set &["org=globex"], records &["org = \"globex\""];
    changing_the_team: base &[], set &["team=payments"], records &["team = \"payments\""];
    changing_the_port: base &[], set &["port=9090"], records &["port = 9090"];
    changing_the_region: base &[], set &["region=eu-west-1"], records &["region = \"eu-west-1\""];
    changing_the_account: base &[], set &["account=444455556666"], records &["account = \"444455556666\""];
    changing_the_tenant: base AZURE, set &["tenant=00000000-0000-0000-0000-000000000003"],
        records &["tenant = \"00000000-0000-0000-0000-000000000003\""];
    changing_the_slo_target: base &[], set &["slo_target=99.5"], records &["slo_target = 99.5"];
}

// --- Clones -------------------------------------------------------------------------------------

/// A scaffold with a team commit on top, pushed to a bare repository `origin.git` beside it.
fn pushed() -> (Scaffold, PathBuf) {
    let s = Scaffold::new(&[]);
    let readme = s.read("README.md").replacen('\n', "\nTeam note.\n", 1);
    s.write("README.md", &readme);
    s.commit("team edit");
    let bare = s.ctx.path("origin.git");
    s.git(&["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()]);
    s.git(&["push", "-q", bare.to_str().unwrap(), "main"]);
    (s, bare)
}

#[test]
fn a_fresh_clone_of_a_pushed_scaffold_upgrades_like_the_original() {
    let (s, bare) = pushed();
    let clone = Scaffold::at("clone");
    std::fs::create_dir(&clone.root).unwrap();
    clone.git(&["clone", "-q", bare.to_str().unwrap(), "."]);
    let next = templates(troubleshooting_change);

    let in_clone = clone.upgrade(&next, &[]).code(0);
    let in_original = s.upgrade(&next, &[]).code(0);
    assert_eq!(actions(&in_clone), ["update docs/troubleshooting.md"]);
    assert_eq!(actions(&in_clone), actions(&in_original));
    let readme = s.read("README.md");
    assert_files(
        &clone.files(),
        &with(&rendered(Some(&next)), "README.md", readme),
        "the clone",
    );
    assert_files(&clone.files(), &s.files(), "the clone against the original");
    assert_eq!(
        clone.git(&["rev-parse", "HEAD^{tree}", "HEAD^2^{tree}", "HEAD^2^"]),
        s.git(&["rev-parse", "HEAD^{tree}", "HEAD^2^{tree}", "HEAD^2^"]),
        "the same merge, render and base"
    );
    assert_eq!(clone.status(), "");
}

#[test]
fn a_shallow_clone_without_the_last_render_is_refused() {
    let (_s, bare) = pushed();
    let clone = Scaffold::at("shallow");
    std::fs::create_dir(&clone.root).unwrap();
    let url = format!("file://{}", bare.display());
    clone.git(&["clone", "-q", "--depth", "1", &url, "."]);
    assert_eq!(clone.git(&["rev-list", "--count", "HEAD"]), "1\n");
    let (before, head) = (clone.files(), clone.head());
    let next = templates(troubleshooting_change);

    let out = clone.upgrade(&next, &[]).code(2);
    let err = crate::support::stderr(&out);
    assert!(
        err.contains("shallow clone") && err.contains("`git fetch --unshallow`"),
        "{err}"
    );
    assert_files(&clone.files(), &before, "refused");
    assert_eq!(clone.head(), head);
}

// --- CRLF and binary files ----------------------------------------------------------------------

fn crlf(text: &str) -> String {
    text.replace('\n', "\r\n")
}

#[test]
fn a_file_the_team_converted_to_crlf_conflicts_whole_when_the_template_changes_it() {
    let s = Scaffold::new(&[]);
    let ours = crlf(&s.read("docs/rollback.md"));
    let monitoring = crlf(&s.read("docs/monitoring.md"));
    s.write("docs/rollback.md", &ours);
    s.write("docs/monitoring.md", &monitoring);
    s.commit("CRLF");
    let (before, head) = (s.files(), s.head());
    let next = templates(|t| {
        replace(
            t,
            "docs/rollback.md.j2",
            "Roll back first, debug afterwards",
            "Roll back FIRST, debug afterwards",
        )
    });

    let out = s.upgrade(&next, &[]).code(1);
    assert_eq!(actions(&out), ["conflict docs/rollback.md"]);
    assert_eq!(s.status(), "UU docs/rollback.md\n");
    // No attributes and no autocrlf: git merges bytes. Every line of the team's file differs from
    // the last render by its `\r`, so the whole file is one hunk against the render's one changed
    // line: a single conflict spanning the file, the team's CRLF lines against the render's LF
    // lines, with LF-terminated markers.
    let render = text(&rendered(Some(&next)), "docs/rollback.md");
    assert!(render.contains("Roll back FIRST") && !render.contains('\r'));
    assert_files(
        &s.files(),
        &with(&before, "docs/rollback.md", hunk(&ours, &render)),
        "conflict",
    );
    s.abort_restores(&before, &head);
}

#[test]
fn a_crlf_file_the_template_does_not_change_stays_byte_identical() {
    let s = Scaffold::new(&[]);
    let monitoring = crlf(&s.read("docs/monitoring.md"));
    s.write("docs/monitoring.md", &monitoring);
    s.commit("CRLF");
    let next = templates(troubleshooting_change);

    let out = s.upgrade(&next, &[]).code(0);
    assert_eq!(actions(&out), ["update docs/troubleshooting.md"]);
    assert_eq!(
        std::fs::read(s.root.join("docs/monitoring.md")).unwrap(),
        monitoring.as_bytes()
    );
    assert_files(
        &s.files(),
        &with(&rendered(Some(&next)), "docs/monitoring.md", monitoring),
        "after the upgrade",
    );
    assert_eq!(s.status(), "");
}

#[test]
fn a_binary_file_both_sides_changed_conflicts_without_markers() {
    const V1: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-v1-\xff\xfe\0";
    const V2: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-v2-\xff\xfe\0";
    const OURS: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-ours-\xc3\x28\0";
    // Not a .j2: render copies it byte for byte.
    let v1 = templates(|t| add_template(t, "docs/logo.png", V1));
    let s = Scaffold::new(&["--template-dir", &dir_arg(&v1)]);
    assert_eq!(s.files()["docs/logo.png"], V1);
    std::fs::write(s.root.join("docs/logo.png"), OURS).unwrap();
    s.commit("our logo");
    let (before, head) = (s.files(), s.head());
    let v2 = templates(|t| add_template(t, "docs/logo.png", V2));

    let out = s.upgrade(&v2, &[]).code(1);
    assert_eq!(actions(&out), ["conflict docs/logo.png"]);
    assert_eq!(s.status(), "UU docs/logo.png\n");
    // The team's bytes stay, no markers written into them.
    assert_files(&s.files(), &before, "conflict");
    let stages: Vec<String> = s
        .git(&["ls-files", "-u", "docs/logo.png"])
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
        .collect();
    assert_eq!(
        stages,
        [s.blob_id(V1), s.blob_id(OURS), s.blob_id(V2)],
        "stages: last render, yours, the render"
    );
    s.abort_restores(&before, &head);
}

// --- Dry runs, refusals, the conflict workflow, init --------------------------------------------

#[test]
fn a_dry_run_reports_every_kind_of_action_and_writes_nothing() {
    let s = Scaffold::new(&[]);
    s.replace_in(
        "docs/troubleshooting.md",
        "## CI failed: triage",
        "## CI failed: how to triage",
    );
    s.replace_in(
        "docs/rollback.md",
        "Roll back first, debug afterwards",
        "Roll back at once, debug afterwards",
    );
    s.git(&["rm", "-q", "docs/runbooks/TrafficDrop.md"]);
    s.commit("team edits");
    let next = templates(|t| {
        add_template(t, "docs/faq.md.j2", FAQ.as_bytes());
        std::fs::remove_file(t.join("docs/incident-response.md.j2")).unwrap();
        replace(
            t,
            "docs/monitoring.md.j2",
            "# Monitoring, SLOs and alerts",
            "# Monitoring, SLOs and alerts (next)",
        );
        replace(
            t,
            "docs/rollback.md.j2",
            "Roll back first, debug afterwards",
            "Roll back FIRST, debug afterwards",
        );
        troubleshooting_change(t);
    });
    let (before, head, git_dir) = (s.files(), s.head(), s.git_dir());

    let out = s.upgrade(&next, &["--dry-run"]).code(1);
    assert_eq!(
        actions(&out),
        [
            "create docs/faq.md",
            "remove docs/incident-response.md",
            "update docs/monitoring.md",
            "conflict docs/rollback.md",
            "keep-deleted docs/runbooks/TrafficDrop.md",
            "merge docs/troubleshooting.md",
        ]
    );
    let text = crate::support::stdout(&out);
    assert!(text.contains("(dry run: nothing is written)"), "{text}");
    assert!(
        text.contains(
            "\n1 new, 1 updated, 1 merged with your edits, 1 conflicts, 1 removed, 1 kept deleted, "
        ),
        "{text}"
    );

    let out = s.upgrade(&next, &["--dry-run", "--format", "json"]).code(1);
    let json: serde_json::Value = serde_json::from_str(&crate::support::stdout(&out)).unwrap();
    assert_eq!(json["dry_run"], true);
    assert_eq!(json["up_to_date"], false);
    assert_eq!(json["from_version"], VERSION);
    assert_eq!(json["to_version"], VERSION);
    assert_eq!(json["answers"]["name"], "svc");
    let files: Vec<(String, String)> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("docs/faq.md", "create"),
        ("docs/incident-response.md", "remove"),
        ("docs/monitoring.md", "update"),
        ("docs/rollback.md", "conflict"),
        ("docs/runbooks/TrafficDrop.md", "keep-deleted"),
        ("docs/troubleshooting.md", "merge"),
    ]
    .iter()
    .map(|(p, a)| (p.to_string(), a.to_string()))
    .collect();
    assert_eq!(files, expected);
    assert_eq!(json["files"][0]["size"], FAQ_RENDERED.len());
    assert_eq!(json["conflicts"], serde_json::json!(["docs/rollback.md"]));
    assert!(json.get("commit").is_none() && json.get("render").is_none());

    // Nothing written: the files, and every byte below .git (no objects, refs or merge state).
    assert_files(&s.files(), &before, "after the dry runs");
    assert!(s.git_dir() == git_dir, "the dry runs wrote below .git");
    assert_eq!(s.head(), head);
    assert_eq!(s.status(), "");

    // Without a conflict, the dry run exits 0.
    let clean = templates(troubleshooting_change);
    let out = s.upgrade(&clean, &["--dry-run"]).code(0);
    assert_eq!(
        actions(&out),
        [
            "keep-deleted docs/runbooks/TrafficDrop.md",
            "merge docs/troubleshooting.md"
        ]
    );
    assert!(s.git_dir() == git_dir, "the dry run wrote below .git");
}

/// A scaffold whose docs/troubleshooting.md line 3 the team changed, and templates that change it
/// too.
fn same_line_conflict() -> (Scaffold, TempDir) {
    let s = Scaffold::new(&[]);
    let path = "docs/troubleshooting.md";
    s.replace_in(path, "Start here when CI fails", "Begin here when CI fails");
    s.commit("team edit");
    (s, templates(troubleshooting_change))
}

#[test]
fn an_upgrade_during_a_merge_and_an_abort_without_one_are_refused() {
    let (s, next) = same_line_conflict();
    let (before, head) = (s.files(), s.head());
    s.upgrade(&next, &[]).code(1);
    let (during, git_dir) = (s.files(), s.git_dir());
    for extra in [&[][..], &["--dry-run"][..], &["--set", "port=9090"][..]] {
        let out = s.upgrade(&next, extra).code(2);
        let err = crate::support::stderr(&out);
        assert!(
            err.contains("a git operation is in progress") && err.contains("upgrade --abort"),
            "{extra:?}: {err}"
        );
        assert_files(&s.files(), &during, "refused during the merge");
        assert!(s.git_dir() == git_dir, "{extra:?} wrote below .git");
    }
    s.abort_restores(&before, &head);

    let out = s.infra_new(&["upgrade", "--abort"]).code(2);
    assert!(crate::support::stderr(&out).contains("no infra-new upgrade is in progress"));
    assert_files(&s.files(), &before, "nothing to abort");

    // A merge of the team's own is not infra-new's to abort, nor to upgrade over.
    s.git(&["checkout", "-q", "-b", "other"]);
    s.write("README.md", "other\n");
    s.commit("other");
    s.git(&["checkout", "-q", "main"]);
    s.write("README.md", "main\n");
    s.commit("main");
    assert!(!s.git_output(&["merge", "-q", "other"]).status.success());
    let (during, git_dir) = (s.files(), s.git_dir());
    s.infra_new(&["upgrade", "--abort"]).code(2);
    s.upgrade(&next, &[]).code(2);
    assert_files(&s.files(), &during, "the team's merge");
    assert!(s.git_dir() == git_dir, "the team's merge state changed");
}

#[test]
fn an_ignored_file_where_the_render_adds_one_is_refused_and_nothing_changes() {
    let s = Scaffold::new(&[]);
    s.write(
        ".gitignore",
        &format!("{}docs/faq.md\n", s.read(".gitignore")),
    );
    s.commit("ignore our notes");
    s.write("docs/faq.md", "local notes\n");
    assert_eq!(s.status(), "");
    let (before, head, git_dir) = (s.files(), s.head(), s.git_dir());
    let next = templates(|t| add_template(t, "docs/faq.md.j2", FAQ.as_bytes()));
    for extra in [&[][..], &["--dry-run"][..]] {
        let out = s.upgrade(&next, extra).code(2);
        let err = crate::support::stderr(&out);
        assert!(
            err.contains("`docs/faq.md` exists but git does not track it"),
            "{extra:?}: {err}"
        );
        assert_files(&s.files(), &before, "refused");
        assert!(s.git_dir() == git_dir, "{extra:?} wrote below .git");
        assert_eq!(s.head(), head);
    }
}

/// Regression: the check for ignored files looked at new files only, and a conflict's render side
/// (here: a file the team deleted, then ignored and kept locally) was written over the team's.
#[test]
fn an_ignored_file_where_a_modify_delete_conflict_would_go_is_not_overwritten() {
    let s = Scaffold::new(&[]);
    let path = "docs/troubleshooting.md";
    s.git(&["rm", "-q", path]);
    s.write(".gitignore", &format!("{}{path}\n", s.read(".gitignore")));
    s.commit("our troubleshooting notes are private");
    s.write(path, "private notes\n");
    let (before, head) = (s.files(), s.head());
    let next = templates(troubleshooting_change);
    let out = s.upgrade(&next, &[]).code(2);
    assert!(
        crate::support::stderr(&out)
            .contains("`docs/troubleshooting.md` exists but git does not track it")
    );
    assert_eq!(s.read(path), "private notes\n");
    assert_files(&s.files(), &before, "refused");
    assert_eq!(s.head(), head);
}

#[test]
fn a_conflict_resolved_and_committed_by_the_team_is_the_next_base() {
    let (s, next) = same_line_conflict();
    let head = s.head();
    s.upgrade(&next, &[]).code(1);
    let render = s.git(&["rev-parse", "MERGE_HEAD"]);
    s.git(&["checkout", "--theirs", "docs/troubleshooting.md"]);
    s.git(&["add", "docs/troubleshooting.md"]);
    s.git(&["commit", "-q", "--no-edit"]);

    assert_eq!(s.git(&["rev-parse", "HEAD^1"]), head);
    assert_eq!(s.git(&["rev-parse", "HEAD^2"]), render);
    let message = s.git(&["log", "-1", "--format=%B", "HEAD^2"]);
    assert!(
        message.contains(&format!("\n\nInfra-New-Render: {VERSION}\n")),
        "{message}"
    );
    assert_eq!(
        s.git(&["log", "-1", "--format=%s", "HEAD"]),
        "Upgrade svc from infra-new 0.1.0 to 0.1.0\n"
    );
    assert_files(&s.files(), &rendered(Some(&next)), "resolved with theirs");
    assert_eq!(s.status(), "");

    let (after, merged) = (s.files(), s.head());
    let out = s.upgrade(&next, &[]).code(0);
    assert!(crate::support::stdout(&out).contains("Already up to date"));
    assert_eq!(s.head(), merged);
    assert_files(&s.files(), &after, "no-op");
}

#[test]
fn init_on_a_scaffold_made_without_git_changes_nothing() {
    let ctx = TestContext::new();
    ctx.new_scaffold("svc", &["--no-git"]).success();
    let s = Scaffold {
        root: ctx.path("svc"),
        ctx,
    };
    s.git(&["init", "-q", "-b", "main"]);
    s.commit("scaffold");
    let (before, head) = (s.files(), s.head());

    let out = s.infra_new(&["init"]).code(0);
    assert_eq!(actions(&out), Vec::<String>::new());
    let text = crate::support::stdout(&out);
    assert!(
        text.contains(
            "\n0 new, 0 updated, 0 merged with your edits, 0 conflicts, 0 removed, 0 kept deleted, "
        ),
        "{text}"
    );
    assert_files(&s.files(), &before, "init");
    assert!(!s.read(".infra-new.toml").contains("adopted"));
    assert_eq!(s.git(&["rev-parse", "HEAD^1"]), head);
    assert_eq!(
        s.git(&["rev-parse", "HEAD^{tree}"]),
        s.git(&["rev-parse", "HEAD^2^{tree}"]),
        "the render is the whole scaffold"
    );
    assert_eq!(s.status(), "");
    // It used the recorded answers: the next upgrade has nothing to do.
    let out = s.infra_new(&["upgrade"]).code(0);
    assert!(crate::support::stdout(&out).contains("Already up to date"));
}

// --- What the upgrade stores --------------------------------------------------------------------

/// Regression: a file merged cleanly beside a conflict was in the index with a blob that only
/// ever lived in memory, so `git commit` failed ("invalid object ... Error building trees") and
/// `git fsck` reported it missing.
#[test]
fn a_file_merged_beside_a_conflict_is_stored_and_the_merge_commits() {
    let s = Scaffold::new(&[]);
    let path = "docs/troubleshooting.md";
    s.replace_in(path, "## CI failed: triage", "## CI failed: how to triage");
    s.replace_in(
        "docs/monitoring.md",
        "# Monitoring, SLOs and alerts",
        "# Our monitoring",
    );
    s.commit("team edits");
    let next = templates(|t| {
        troubleshooting_change(t);
        replace(
            t,
            "docs/monitoring.md.j2",
            "# Monitoring, SLOs and alerts",
            "# Monitoring, SLOs and alerts (next)",
        );
    });

    let out = s.upgrade(&next, &[]).code(1);
    assert_eq!(
        actions(&out),
        [
            "conflict docs/monitoring.md",
            "merge docs/troubleshooting.md"
        ]
    );
    assert_eq!(
        s.status(),
        "UU docs/monitoring.md\nM  docs/troubleshooting.md\n"
    );
    let fsck = s.git_output(&["fsck", "--full", "--no-dangling"]);
    assert!(
        fsck.status.success() && !String::from_utf8_lossy(&fsck.stdout).contains("missing"),
        "{}",
        String::from_utf8_lossy(&fsck.stdout)
    );
    s.git(&["checkout", "--theirs", "docs/monitoring.md"]);
    s.git(&["add", "docs/monitoring.md"]);
    s.git(&["commit", "-q", "--no-edit"]);
    let merged = edit(
        &text(&rendered(Some(&next)), path),
        "## CI failed: triage",
        "## CI failed: how to triage",
    );
    assert_eq!(s.git(&["show", &format!("HEAD:{path}")]), merged);
    assert_eq!(s.status(), "");
}

/// `git count-objects -v`'s count of packed objects.
fn packed_objects(s: &Scaffold) -> usize {
    s.git(&["count-objects", "-v"])
        .lines()
        .find_map(|l| l.strip_prefix("in-pack: "))
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn an_upgrade_stores_only_the_objects_it_adds() {
    let s = Scaffold::new(&[]);
    let path = "docs/troubleshooting.md";
    s.replace_in(path, "## CI failed: triage", "## CI failed: how to triage");
    s.commit("team edit");
    let before = packed_objects(&s);
    s.upgrade(&templates(troubleshooting_change), &[]).code(0);
    // The render's and the merge's blob of the file, their `docs` and root trees, two commits:
    // not another copy of every file.
    assert_eq!(packed_objects(&s) - before, 8);
    let fsck = s.git_output(&["fsck", "--full", "--no-dangling"]);
    assert!(fsck.status.success());
}
