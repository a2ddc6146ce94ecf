//! Typed errors. The library returns them; only `main` prints them and maps them to exit codes.

use std::fmt;
use std::path::PathBuf;

use crate::answers::{Origin, keys};

/// Documented exit codes.
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// An upgrade or init left conflicts to resolve (or would, in a dry run).
    pub const CONFLICTS: i32 = 1;
    /// Bad input or usage: nothing was written.
    pub const USAGE: i32 = 2;
    /// The environment failed us (I/O, git): nothing was left half-written.
    pub const FAILURE: i32 = 3;
}

/// One problem with one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    /// The value given, or `None` when the answer is missing.
    pub value: Option<String>,
    pub origin: Option<Origin>,
    /// What a valid value looks like (valid values for a choice).
    pub hint: String,
}

impl Problem {
    pub fn new(key: &str, value: &str, origin: &Origin, hint: String) -> Problem {
        Problem {
            key: key.to_string(),
            value: Some(value.to_string()),
            origin: Some(origin.clone()),
            hint,
        }
    }

    /// A value that is fine on its own but not together with other answers.
    pub fn combined(key: &str, value: &str, hint: String) -> Problem {
        Problem {
            key: key.to_string(),
            value: Some(value.to_string()),
            origin: None,
            hint,
        }
    }

    pub fn missing(key: &str, hint: String) -> Problem {
        Problem {
            key: key.to_string(),
            value: None,
            origin: None,
            hint,
        }
    }

    pub fn unknown_key(key: &str, origin: &Origin) -> Problem {
        Problem {
            key: key.to_string(),
            value: None,
            origin: Some(origin.clone()),
            hint: format!("unknown key; valid keys: {}", keys().join(", ")),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.value, &self.origin) {
            (Some(v), Some(o)) => write!(f, "`{}` = {:?} (from {o}): {}", self.key, v, self.hint),
            (None, Some(o)) => write!(f, "`{}` (from {o}): {}", self.key, self.hint),
            (Some(v), None) => write!(f, "`{}` = {:?}: {}", self.key, v, self.hint),
            _ => write!(f, "`{}` is missing: {}", self.key, self.hint),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{} invalid or missing answer{}:\n{}", .0.len(), if .0.len() == 1 { "" } else { "s" }, list(.0))]
    InvalidAnswers(Vec<Problem>),

    #[error("cannot read answers file `{}`", .path.display())]
    ReadAnswers {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("unknown preset `{name}`; available presets: {}", .available.join(", "))]
    UnknownPreset {
        name: String,
        available: Vec<String>,
    },

    #[error("target `{}` exists and is not empty", .0.display())]
    TargetNotEmpty(PathBuf),

    #[error("target `{}` exists and is not a directory", .0.display())]
    TargetNotDirectory(PathBuf),

    #[error("invalid `--set {0}`: expected KEY=VALUE")]
    BadSet(String),

    #[error("the wizard was cancelled")]
    Cancelled,

    #[error("cannot ask for `{key}`")]
    Prompt {
        key: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error("template `{template}` failed to render")]
    Render {
        template: String,
        source: minijinja::Error,
    },

    #[error("{action} `{}`", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("`{}` is not inside a git repository", .0.display())]
    NotARepository(PathBuf),

    #[error("the repository at `{}` has no commit yet", .0.display())]
    NoCommits(PathBuf),

    #[error("a git operation is in progress ({0})")]
    OperationInProgress(String),

    #[error("the work tree has uncommitted changes:\n{}", .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Dirty(Vec<String>),

    #[error("no infra-new render in the history of HEAD{}", if *.shallow { " (this is a shallow clone)" } else { "" })]
    NoRender { shallow: bool },

    #[error("this repository already has an infra-new render in its history")]
    AlreadyAdopted,

    #[error(
        "`{0}` exists but git does not track it (it is ignored); the upgrade would overwrite it"
    )]
    WouldOverwrite(String),

    #[error("no infra-new upgrade is in progress")]
    NothingToAbort,

    #[error("`.infra-new.toml` is missing at HEAD: it records the answers an upgrade renders with")]
    NoAnswersFile,

    #[error("cannot check `{}`: {reason}", .path.display())]
    CheckPath { path: PathBuf, reason: String },

    #[error("`{}` is not an infra-new scaffold: it has no readable `.infra-new.toml`", .0.display())]
    NotAScaffold(PathBuf),

    #[error("no rule `{0}`")]
    UnknownRule(String),

    #[error("git: {action}")]
    Git {
        action: &'static str,
        source: git2::Error,
    },
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Error {
    /// The exit code `main` maps this error to.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::InvalidAnswers(_)
            | Error::ReadAnswers { .. }
            | Error::UnknownPreset { .. }
            | Error::TargetNotEmpty(_)
            | Error::TargetNotDirectory(_)
            | Error::BadSet(_)
            | Error::Cancelled
            | Error::NotARepository(_)
            | Error::NoCommits(_)
            | Error::OperationInProgress(_)
            | Error::Dirty(_)
            | Error::NoRender { .. }
            | Error::AlreadyAdopted
            | Error::WouldOverwrite(_)
            | Error::NothingToAbort
            | Error::NoAnswersFile
            | Error::CheckPath { .. }
            | Error::NotAScaffold(_)
            | Error::UnknownRule(_) => exit::USAGE,
            Error::Prompt { .. } | Error::Render { .. } | Error::Io { .. } | Error::Git { .. } => {
                exit::FAILURE
            }
        }
    }

    /// What the user can do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::InvalidAnswers(_) => Some(
                "pass answers with flags (`--name`, `--language`, ...), `--set KEY=VALUE`, `--answers FILE` or `--preset NAME`; `--yes` takes the defaults".into(),
            ),
            Error::UnknownPreset { .. } => Some("`infra-new presets` lists them; a path to a .toml file works too".into()),
            Error::NotAScaffold(_) => Some("`--drift` compares a scaffold made by `infra-new new` or `init` with the templates; without it, `infra-new check` checks any repository".into()),
            Error::UnknownRule(_) => Some(format!(
                "rule ids: {}",
                crate::check::rules::all().map(|r| r.id).collect::<Vec<_>>().join(", ")
            )),
            Error::TargetNotEmpty(_) => {
                Some("choose a directory that does not exist yet, or an empty one: nothing was written".into())
            }
            Error::Render { .. } => Some("this is a bug in infra-new's templates: please report it".into()),
            Error::Git { .. } => Some("`--no-git` skips the repository and its first commit".into()),
            Error::NotARepository(_) => Some(
                "upgrades merge into git history: run it in the scaffold's repository; for a scaffold made with --no-git, `git init && git add -A && git commit -m scaffold`, then `infra-new init` there".into(),
            ),
            Error::NoCommits(_) => Some("commit the files first (`git add -A && git commit`)".into()),
            Error::OperationInProgress(_) => Some(
                "finish it (`git commit`) or abort it (`git merge --abort`, `infra-new upgrade --abort`) first".into(),
            ),
            Error::Dirty(_) => Some("commit or stash them first (`git stash -u`): nothing was changed".into()),
            Error::NoRender { shallow: true } => Some("fetch the full history (`git fetch --unshallow`) and run it again".into()),
            Error::NoRender { shallow: false } => Some(
                "`infra-new init` adopts the repository: it adds the infrastructure, and files that already exist become conflicts to resolve".into(),
            ),
            Error::AlreadyAdopted => Some("use `infra-new upgrade` (with `--set KEY=VALUE` to change an answer)".into()),
            Error::WouldOverwrite(_) => Some("move it out of the way and run the upgrade again: nothing was changed".into()),
            Error::NoAnswersFile => Some("restore it from the history (`git log -- .infra-new.toml`) and commit it".into()),
            _ => None,
        }
    }

    pub fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }

    pub fn git(action: &'static str) -> impl FnOnce(git2::Error) -> Error {
        move |source| Error::Git { action, source }
    }
}
