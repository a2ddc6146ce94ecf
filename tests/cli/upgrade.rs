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

    fn infra_new(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        self.ctx.cmd().current_dir(&self.root).args(args).assert()
    }

    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(&self.root)
            .env("HOME", &self.ctx.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", TEST_NAME)
            .env("GIT_AUTHOR_EMAIL", TEST_EMAIL)
            .env("GIT_COMMITTER_NAME", TEST_NAME)
            .env("GIT_COMMITTER_EMAIL", TEST_EMAIL)
            .output()
            .unwrap();
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
fn templates(edit: impl FnOnce(&Path)) -> TempDir {
    let dir = TempDir::new().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
        dir.path(),
    );
    edit(dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
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
fn replace(dir: &Path, path: &str, from: &str, to: &str) {
    let file = dir.join(path);
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.matches(from).count(), 1, "{path}: `{from}`");
    std::fs::write(&file, text.replacen(from, to, 1)).unwrap();
}

fn dir_arg(t: &TempDir) -> String {
    t.path().display().to_string()
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
    let next = templates(|t| {
        replace(
            t,
            "docs/monitoring.md.j2",
            "# Monitoring, SLOs and alerts",
            "# Monitoring, SLOs and alerts (next)",
        )
    });
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
    let next = templates(|t| {
        replace(
            t,
            "docs/monitoring.md.j2",
            "# Monitoring, SLOs and alerts",
            "# Monitoring, SLOs and alerts (next)",
        )
    });
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
