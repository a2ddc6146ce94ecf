//! The test context: a temp dir, a hermetic environment (HOME, git identity, no system git
//! config), and helpers to run the real binary and read what it made.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use assert_fs::TempDir;

pub const TEST_NAME: &str = "Test User";
pub const TEST_EMAIL: &str = "test@example.invalid";

pub struct TestContext {
    pub dir: TempDir,
    pub home: PathBuf,
}

impl TestContext {
    /// A context whose HOME has a git identity.
    pub fn new() -> TestContext {
        let ctx = TestContext::bare();
        std::fs::write(
            ctx.home.join(".gitconfig"),
            format!("[user]\n\tname = {TEST_NAME}\n\temail = {TEST_EMAIL}\n"),
        )
        .unwrap();
        ctx
    }

    /// A context whose HOME has no git configuration at all.
    pub fn bare() -> TestContext {
        let dir = TempDir::new().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir(&home).unwrap();
        TestContext { dir, home }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The binary in the temp dir with a hermetic environment and stdin that is not a terminal.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("infra-new").unwrap();
        cmd.current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("LANG", "C.UTF-8")
            .env("COLUMNS", "100")
            .timeout(Duration::from_secs(60))
            .write_stdin("");
        cmd
    }

    /// `infra-new new <rel> --preset default --org acme --account 111122223333 --yes` plus `extra`.
    pub fn new_scaffold(&self, rel: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
        self.cmd()
            .args([
                "new",
                rel,
                "--preset",
                "default",
                "--org",
                "acme",
                "--account",
                "111122223333",
                "--yes",
            ])
            .args(extra)
            .assert()
    }

    /// The names in the temp dir other than HOME: to prove nothing else was written.
    pub fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "home")
            .collect();
        names.sort();
        names
    }
}

/// Every file below `root` (relative, `/`), except under `.git/`.
pub fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if rel == ".git" {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

pub fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

pub fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stderr.clone()).unwrap()
}
