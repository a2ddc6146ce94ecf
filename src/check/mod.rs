//! `infra-new check`: the rules the scaffolds are built to, applied to any repository.
//!
//! The flow mirrors the rest of the tool: [`discover`] walks the tree once (honouring
//! `.gitignore`) and sorts files by kind → each family module reports [`Finding`]s into a
//! [`Findings`] → inline `# infra-new:ignore ID reason` comments move findings to `suppressed` →
//! [`report`] prints the [`Report`] for people, as JSON or as SARIF.
//!
//! Families: [`dockerfile`], [`kubernetes`], [`workflows`] (GitHub Actions and GitLab CI),
//! [`compose`] and [`repo`] (secrets and lockfiles, across every text file). Each owns its rules
//! as `static` [`Rule`]s listed in its `RULES`; [`rules`] joins them into the catalog behind
//! `--explain`.

pub mod compose;
pub mod dockerfile;
pub mod drift;
pub mod kubernetes;
pub mod repo;
pub mod report;
pub mod rules;
pub mod workflows;
pub mod yaml;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use rules::{Rule, Severity};

/// One rule broken at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static Rule,
    /// Relative to the checked root, with `/` separators.
    pub path: String,
    /// 1-based; `None` for a finding about the file as a whole.
    pub line: Option<usize>,
    /// What is wrong here, in one line (names the container, image, action… concerned).
    pub message: String,
}

/// A finding an inline comment suppressed, and the reason the comment gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressed {
    pub finding: Finding,
    pub reason: String,
}

/// A file that could not be read or parsed. The run goes on with the other files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileError {
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
}

/// Where family modules put what they find.
#[derive(Debug, Default)]
pub struct Findings {
    items: Vec<Finding>,
}

impl Findings {
    pub fn add(
        &mut self,
        rule: &'static Rule,
        path: &str,
        line: Option<usize>,
        message: impl Into<String>,
    ) {
        self.items.push(Finding {
            rule,
            path: path.to_owned(),
            line,
            message: message.into(),
        });
    }

    pub fn iter(&self) -> impl Iterator<Item = &Finding> {
        self.items.iter()
    }

    pub fn into_vec(self) -> Vec<Finding> {
        self.items
    }
}

/// A text file to check: its path relative to the root (with `/`) and its contents.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: String,
    pub text: String,
}

/// Every file the walk found (relative paths with `/`), for rules that look beside a file:
/// a `.dockerignore` next to a Dockerfile, a lockfile next to a build manifest.
#[derive(Debug, Default)]
pub struct Repo {
    pub files: BTreeSet<String>,
}

impl Repo {
    pub fn has(&self, path: &str) -> bool {
        self.files.contains(path)
    }
}

/// What `check` needs besides the path.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `kubectl`, when found: Kustomize overlays are rendered with `kubectl kustomize` and checked
    /// as deployed. Without it they are checked file by file, and the report says so.
    pub kubectl: Option<PathBuf>,
}

/// The outcome of a check.
#[derive(Debug, Default)]
pub struct Report {
    /// Files a rule family looked at (Dockerfiles, YAML, CI files, and every text file scanned
    /// for secrets counts once).
    pub files_checked: usize,
    pub findings: Vec<Finding>,
    pub suppressed: Vec<Suppressed>,
    pub errors: Vec<FileError>,
    /// Things the reader should know about the run itself (e.g. overlays not rendered).
    pub notes: Vec<String>,
}

impl Report {
    /// How many findings are errors, and how many warnings.
    pub fn severity_counts(&self) -> (usize, usize) {
        let errors = self
            .findings
            .iter()
            .filter(|f| f.rule.severity == Severity::Error)
            .count();
        (errors, self.findings.len() - errors)
    }

    /// 0 clean, 1 findings, 2 when a file could not be read or parsed.
    pub fn exit_code(&self) -> i32 {
        if !self.errors.is_empty() {
            crate::error::exit::USAGE
        } else if !self.findings.is_empty() {
            1
        } else {
            crate::error::exit::OK
        }
    }
}

/// The kind of file, by name and place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Dockerfile,
    Compose,
    GithubWorkflow,
    GitlabCi,
    /// Any other `.yaml`/`.yml`: Kubernetes manifests and Kustomizations are found among these.
    Yaml,
    /// Everything else: scanned for secrets only.
    Other,
}

/// Extensions that mark a template of a file rather than the file itself.
/// Extensions that mark something other than a Dockerfile in a name like `Dockerfile.<ext>`:
/// a template of one, a backup, documentation, or source code about Dockerfiles.
const TEMPLATE_EXTENSIONS: &[&str] = &[
    "j2", "jinja", "jinja2", "tmpl", "tpl", "template", "orig", "bak", "md", "txt", "rs", "go",
    "py", "js", "ts", "java", "rb", "json", "yaml", "yml", "toml", "sh",
];

pub fn classify(path: &str) -> FileKind {
    let name = path.rsplit('/').next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    let extension = lower.rsplit_once('.').map(|(_, ext)| ext);
    let yaml = matches!(extension, Some("yaml" | "yml"));
    let dockerish = |stem: &str| {
        lower == stem
            || (lower.starts_with(&format!("{stem}."))
                && !TEMPLATE_EXTENSIONS.contains(&extension.unwrap_or(""))
                && !lower.ends_with(".dockerignore"))
            || lower.ends_with(&format!(".{stem}"))
    };
    if dockerish("dockerfile") || dockerish("containerfile") {
        FileKind::Dockerfile
    } else if yaml
        && path
            .strip_prefix(".github/workflows/")
            .is_some_and(|rest| !rest.contains('/'))
    {
        FileKind::GithubWorkflow
    } else if yaml
        && (lower == ".gitlab-ci.yml"
            || lower == ".gitlab-ci.yaml"
            || lower.ends_with(".gitlab-ci.yml")
            || path.starts_with(".gitlab/ci/"))
    {
        FileKind::GitlabCi
    } else if yaml
        && (lower.starts_with("compose.")
            || lower.starts_with("compose-")
            || lower.starts_with("docker-compose"))
    {
        FileKind::Compose
    } else if yaml {
        FileKind::Yaml
    } else {
        FileKind::Other
    }
}

/// Files larger than this are not read (generated bundles, data): 2 MiB.
const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// Walks `root` (honouring `.gitignore`, `.ignore` and `.git/info/exclude`, skipping `.git` and
/// Helm chart directories) and returns relative paths with `/`, sorted, plus notes about what
/// was skipped.
pub fn discover(root: &Path) -> Result<(Vec<String>, Vec<String>), FileError> {
    let mut files = Vec::new();
    let mut charts = BTreeSet::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(|entry| entry.file_name() != ".git")
        .build();
    for entry in walker {
        let entry = entry.map_err(|error| FileError {
            path: root.display().to_string(),
            line: None,
            message: error.to_string(),
        })?;
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(root) else {
            continue;
        };
        let relative = relative.to_string_lossy().replace('\\', "/");
        if relative.ends_with("Chart.yaml") {
            charts.insert(relative.trim_end_matches("Chart.yaml").to_owned());
        }
        files.push(relative);
    }
    // Helm charts are templates, not YAML: leave their templates to `helm lint`.
    let mut notes = Vec::new();
    for chart in &charts {
        notes.push(format!(
            "{}: Helm chart; its templates are not checked (render it and check the output)",
            if chart.is_empty() {
                "."
            } else {
                chart.trim_end_matches('/')
            }
        ));
    }
    files.retain(|f| {
        !charts
            .iter()
            .any(|chart| f.starts_with(&format!("{chart}templates/")))
    });
    Ok((files, notes))
}

/// A file's bytes, or `None` when it is larger than [`MAX_FILE_BYTES`].
fn read_small(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    if std::fs::metadata(path)?.len() > MAX_FILE_BYTES {
        return Ok(None);
    }
    std::fs::read(path).map(Some)
}

/// Checks the repository at `root`.
pub fn check(root: &Path, options: &Options) -> Result<Report, FileError> {
    let (paths, mut notes) = discover(root)?;
    let repo = Repo {
        files: paths.iter().cloned().collect(),
    };
    let mut out = Findings::default();
    let mut errors = Vec::new();
    let mut sources: BTreeMap<String, Source> = BTreeMap::new();
    let mut manifests = Vec::new();
    let mut checked = 0;

    for path in &paths {
        let bytes = match read_small(&root.join(path)) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => continue,
            Err(error) => {
                errors.push(FileError {
                    path: path.clone(),
                    line: None,
                    message: error.to_string(),
                });
                continue;
            }
        };
        let kind = classify(path);
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            // Binary files hold no checkable text; a Dockerfile or YAML file must be UTF-8.
            Err(_) if kind == FileKind::Other => continue,
            Err(_) => {
                errors.push(FileError {
                    path: path.clone(),
                    line: None,
                    message: "not UTF-8 text".into(),
                });
                continue;
            }
        };
        checked += 1;
        let source = Source {
            path: path.clone(),
            text,
        };
        repo::secrets(&source, &mut out);
        let parsed = match kind {
            FileKind::Other => Ok(()),
            FileKind::Dockerfile => dockerfile::check(&source, &repo, &mut out),
            FileKind::Compose | FileKind::GithubWorkflow | FileKind::GitlabCi | FileKind::Yaml => {
                match yaml::parse(&source.text) {
                    Ok(documents) => {
                        match kind {
                            FileKind::Compose => compose::check(&source, &documents, &mut out),
                            FileKind::GithubWorkflow => {
                                workflows::check_github(&source, &documents, &mut out)
                            }
                            FileKind::GitlabCi => {
                                workflows::check_gitlab(&source, &documents, &mut out)
                            }
                            _ => manifests.push(kubernetes::Manifest {
                                path: path.clone(),
                                documents,
                            }),
                        }
                        Ok(())
                    }
                    Err(error) => Err(error),
                }
            }
        };
        if let Err(error) = parsed {
            errors.push(FileError {
                path: path.clone(),
                line: error.line,
                message: error.message,
            });
        }
        sources.insert(path.clone(), source);
    }
    repo::lockfiles(root, &repo, &mut out);
    kubernetes::check(root, &manifests, options, &mut out, &mut notes);

    let (findings, suppressed) = apply_suppressions(out.into_vec(), &sources);
    Ok(Report {
        files_checked: checked,
        findings,
        suppressed,
        errors,
        notes,
    })
}

/// The marker of an inline suppression.
pub const IGNORE_MARKER: &str = "infra-new:ignore";

/// One `infra-new:ignore ID reason` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ignore {
    line: usize,
    rule: String,
    reason: String,
}

/// The ignore comments of one file, and which lines each one covers: its own line, and when it
/// sits in a block of comment lines, the first line after the block. A file's leading comment
/// block also covers findings about the whole file.
fn ignores(text: &str) -> Vec<Ignore> {
    text.lines()
        .enumerate()
        .filter_map(|(index, line)| {
            let rest = &line[line.find(IGNORE_MARKER)? + IGNORE_MARKER.len()..];
            if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
                return None;
            }
            let mut words = rest.trim().splitn(2, char::is_whitespace);
            let rule = words.next().unwrap_or("").to_owned();
            // Prose about the syntax ("`# infra-new:ignore ID reason`") is not a suppression:
            // an id starts with a letter and ends with digits, like every rule's (K8S006), so
            // a typo such as DF01 still counts, and is reported.
            let id_like = rule.starts_with(|c: char| c.is_ascii_alphabetic())
                && rule.ends_with(|c: char| c.is_ascii_digit())
                && rule.chars().all(|c| c.is_ascii_alphanumeric());
            if !id_like {
                return None;
            }
            let reason = words.next().unwrap_or("").trim().to_owned();
            Some(Ignore {
                line: index + 1,
                rule,
                reason,
            })
        })
        .collect()
}

fn is_comment(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with('#') || line.starts_with("//")
}

/// Whether the ignore comment on `ignore_line` covers a finding on `line` (`None`: whole file).
fn covers(lines: &[&str], ignore_line: usize, line: Option<usize>) -> bool {
    let comment_block_end = |from: usize| {
        (from..=lines.len())
            .find(|&n| n == lines.len() || !is_comment(lines[n]))
            .unwrap_or(lines.len())
    };
    match line {
        Some(line) => {
            // Same line (a trailing comment), or the first non-comment line after the comment
            // block the ignore sits in.
            line == ignore_line
                || (is_comment(lines[ignore_line - 1])
                    && comment_block_end(ignore_line) + 1 == line)
        }
        None => {
            // The leading comment block (blank lines allowed) before any content.
            lines[..ignore_line]
                .iter()
                .all(|l| l.trim().is_empty() || is_comment(l))
        }
    }
}

/// Splits findings into reported and suppressed, and reports malformed ignore comments.
fn apply_suppressions(
    findings: Vec<Finding>,
    sources: &BTreeMap<String, Source>,
) -> (Vec<Finding>, Vec<Suppressed>) {
    let mut reported = Vec::new();
    let mut suppressed = Vec::new();
    let mut invalid = Vec::new();
    let mut per_file: BTreeMap<&str, (Vec<&str>, Vec<Ignore>)> = BTreeMap::new();
    for (path, source) in sources {
        let found = ignores(&source.text);
        if found.is_empty() {
            continue;
        }
        for ignore in &found {
            let problem = if rules::find(&ignore.rule).is_none() {
                Some(format!(
                    "`{IGNORE_MARKER} {}`: no such rule (see `infra-new check --explain`)",
                    ignore.rule
                ))
            } else if ignore.reason.is_empty() {
                Some(format!(
                    "`{IGNORE_MARKER} {}` gives no reason; write why after the rule id",
                    ignore.rule
                ))
            } else {
                None
            };
            if let Some(message) = problem {
                invalid.push(Finding {
                    rule: &rules::CHK001,
                    path: path.clone(),
                    line: Some(ignore.line),
                    message,
                });
            }
        }
        per_file.insert(path, (source.text.lines().collect(), found));
    }
    for finding in findings {
        let reason = per_file
            .get(finding.path.as_str())
            .and_then(|(lines, found)| {
                found
                    .iter()
                    .find(|i| {
                        i.rule == finding.rule.id
                            && !i.reason.is_empty()
                            && covers(lines, i.line, finding.line)
                    })
                    .map(|i| i.reason.clone())
            });
        match reason {
            Some(reason) => suppressed.push(Suppressed { finding, reason }),
            None => reported.push(finding),
        }
    }
    reported.extend(invalid);
    let key = |f: &Finding| {
        (
            f.path.clone(),
            f.line.unwrap_or(0),
            f.rule.id,
            f.message.clone(),
        )
    };
    reported.sort_by_key(key);
    reported.dedup();
    suppressed.sort_by_key(|s| key(&s.finding));
    (reported, suppressed)
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {} {}", self.path, self.rule.id, self.message),
            None => write!(f, "{}: {} {}", self.path, self.rule.id, self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_classified_by_name_and_place() {
        for (path, kind) in [
            ("Dockerfile", FileKind::Dockerfile),
            ("svc/dockerfile", FileKind::Dockerfile),
            ("Dockerfile.prod", FileKind::Dockerfile),
            ("build/api.Dockerfile", FileKind::Dockerfile),
            ("Containerfile", FileKind::Dockerfile),
            ("templates/Dockerfile.j2", FileKind::Other),
            ("src/check/dockerfile.rs", FileKind::Other),
            ("Dockerfile.dockerignore", FileKind::Other),
            (".github/workflows/ci.yml", FileKind::GithubWorkflow),
            (".github/workflows/sub/x.yml", FileKind::Yaml),
            (".gitlab-ci.yml", FileKind::GitlabCi),
            (".gitlab/ci/build.yml", FileKind::GitlabCi),
            ("compose.yaml", FileKind::Compose),
            ("docker-compose.override.yml", FileKind::Compose),
            ("deploy/app.yaml", FileKind::Yaml),
            ("README.md", FileKind::Other),
        ] {
            assert_eq!(classify(path), kind, "{path}");
        }
    }

    #[test]
    fn ignores_cover_their_line_or_the_line_after_their_comment_block() {
        let text = "a\n# infra-new:ignore DF001 because\n# more words\nb\nc # infra-new:ignore DF002 why\n";
        let lines: Vec<&str> = text.lines().collect();
        let found = ignores(text);
        assert_eq!(
            found[0],
            Ignore {
                line: 2,
                rule: "DF001".into(),
                reason: "because".into()
            }
        );
        assert!(covers(&lines, 2, Some(4)));
        assert!(!covers(&lines, 2, Some(5)));
        assert!(covers(&lines, 5, Some(5)));
        assert!(
            !covers(&lines, 5, None),
            "a trailing comment is not in the leading block"
        );
        assert!(covers(&lines, 2, Some(4)));
        assert!(
            ignores("//! write `# infra-new:ignore ID reason` or <RULE-ID>\n").is_empty(),
            "prose"
        );
        assert_eq!(
            ignores(&format!("# {IGNORE_MARKER} DF01 typo\n")).len(),
            1,
            "a mistyped id is reported"
        );
        let header = "# infra-new:ignore DF006 context is the repo root\nFROM x\n";
        assert!(covers(&header.lines().collect::<Vec<_>>(), 1, None));
    }
}
