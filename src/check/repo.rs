//! Repository-wide rules: secrets in any text file (SEC…), lockfiles beside build manifests
//! (LCK…).

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use super::{Findings, Repo, Rule, Severity, Source};

pub static SEC001: Rule = Rule {
    id: "SEC001",
    severity: Severity::Error,
    title: "No credentials committed to the repository",
    fix: "Revoke the credential now, then move it to a secret store and remove it from the file",
    explain: "\
A credential in a file is in every clone, fork, CI log and backup of the repository, and stays in
its history after the line is deleted. Automated scanners harvest public repositories within
minutes; private ones leak through laptops, contractors and CI caches. Once committed, treat it
as exposed: revoke or rotate it first, then clean up.

Only patterns that are almost never anything else are reported: AWS access key ids (AKIA/ASIA),
PEM and PGP private key blocks followed by key material, GitHub tokens (ghp_, gho_, ghu_, ghs_,
ghr_, github_pat_), GitLab personal access tokens (glpat-), Slack tokens (xoxb-, xoxp-…), Google
API keys (AIza…) and Stripe live secret keys (sk_live_). The example key id of the AWS
documentation, AKIAIOSFODNN7EXAMPLE, and placeholders made of a few repeated characters
(ghp_xxxx…) are not reported. Findings never print the secret.

Passes: the value comes from the environment or a secret manager at run time
(`os.environ[\"GITHUB_TOKEN\"]`, a Kubernetes Secret, `RUN --mount=type=secret`). For a fake
credential in test data, suppress with `# infra-new:ignore SEC001 fake key for the parser test`.",
};

pub static LCK001: Rule = Rule {
    id: "LCK001",
    severity: Severity::Error,
    title: "Build manifests have a committed lockfile",
    fix: "Generate the lockfile (npm install, uv lock, go mod tidy, cargo generate-lockfile…) and commit it",
    explain: "\
Without a lockfile, every install resolves version ranges again: CI, the image build and a
laptop get different dependency trees, a compromised or broken release of a transitive
dependency ships the next time anyone builds, and a rollback no longer rebuilds what ran.

Beside each manifest (in the same directory) one of these must be committed:

    package.json    package-lock.json, npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml, bun.lock(b)
                    (or one in a directory above: the workspace root)
    pyproject.toml  poetry.lock, uv.lock, pdm.lock, pylock.toml or a requirements*.txt
                    (uv.lock, poetry.lock or pdm.lock may also be in a directory above)
    Pipfile         Pipfile.lock
    go.mod          go.sum, once go.mod has a require directive
    Cargo.toml      Cargo.lock here or in the workspace root above, for packages with a binary
    Gemfile         Gemfile.lock
    composer.json   composer.lock

A lockfile listed in .gitignore counts as missing: the check sees what the repository holds, as
CI does. Manifests without dependencies (package.json without dependencies, pyproject.toml
without [project] or Poetry dependencies), Rust libraries (consumers resolve their own
versions) and Maven or Gradle builds (no standard lockfile; pin versions in the build file) are
not judged. Suppress with `# infra-new:ignore LCK001 <reason>` where the format has comments.",
};

pub static RULES: &[&Rule] = &[&SEC001, &LCK001];

/// One alternative per kind of credential; which one matched is told by the match's prefix.
static SECRET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?-u:\b)(?:AKIA|ASIA)[A-Z0-9]{16}(?-u:\b)",
        r"|-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----",
        r"|(?-u:\b)gh[pousr]_[A-Za-z0-9]{36}(?-u:\b)",
        r"|(?-u:\b)github_pat_[A-Za-z0-9_]{82}(?-u:\b)",
        r"|(?-u:\b)glpat-[A-Za-z0-9_\-]{20,}",
        r"|(?-u:\b)xox[baprs]-[0-9]+-[A-Za-z0-9\-]{10,}",
        r"|(?-u:\b)AIza[0-9A-Za-z_\-]{35}",
        r"|(?-u:\b)sk_live_[A-Za-z0-9]{24,}",
    ))
    .expect("secret patterns compile")
});

/// The key id the AWS documentation uses in every example: not a credential.
const AWS_DOCUMENTATION_EXAMPLE: &str = "AKIAIOSFODNN7EXAMPLE";

/// What a match is, by its prefix, and how long that prefix is.
fn kind(secret: &str) -> (&'static str, usize) {
    const KINDS: &[(&str, &str)] = &[
        ("AKIA", "AWS access key id"),
        ("ASIA", "AWS temporary access key id"),
        ("-----BEGIN", "private key"),
        ("github_pat_", "GitHub fine-grained personal access token"),
        ("ghp_", "GitHub personal access token"),
        ("gho_", "GitHub OAuth token"),
        ("ghu_", "GitHub user-to-server token"),
        ("ghs_", "GitHub server-to-server token"),
        ("ghr_", "GitHub refresh token"),
        ("glpat-", "GitLab personal access token"),
        ("xox", "Slack token"),
        ("AIza", "Google API key"),
        ("sk_live_", "Stripe live secret key"),
    ];
    KINDS
        .iter()
        .find(|(prefix, _)| secret.starts_with(prefix))
        .map_or(("credential", 0), |(prefix, kind)| (kind, prefix.len()))
}

/// A placeholder (`ghp_xxxxxxxx…`, `AKIA0000…`) rather than a credential: its random part uses
/// fewer than five distinct characters.
fn is_placeholder(random: &str) -> bool {
    let mut seen = std::collections::BTreeSet::new();
    random.chars().all(|c| {
        seen.insert(c);
        seen.len() < 5
    })
}

/// Whether key material follows a `-----BEGIN … PRIVATE KEY-----` marker: after blank lines and
/// PEM or armour headers (`Proc-Type: …`, `Version: …`), the next line starts with 20 base64
/// characters. Line breaks written as `\n` escapes (a key inside a JSON string) count as line
/// breaks. Prose or code that only names the marker is not a key.
fn has_key_material(after: &str) -> bool {
    let end = after
        .char_indices()
        .nth(400)
        .map_or(after.len(), |(i, _)| i);
    let window = after[..end].replace("\\r\\n", "\n").replace("\\n", "\n");
    for line in window.lines() {
        let line =
            line.trim_matches(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '+'));
        if line.is_empty() {
            continue;
        }
        let header = line.split_once(':').is_some_and(|(name, _)| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        if header {
            continue;
        }
        return line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
            .count()
            >= 20;
    }
    false
}

pub fn secrets(file: &Source, out: &mut Findings) {
    let text = file.text.as_str();
    let mut line = 1;
    let mut counted = 0;
    for found in SECRET.find_iter(text) {
        let secret = found.as_str();
        let (kind, prefix) = kind(secret);
        let reported = if secret.starts_with("-----BEGIN") {
            has_key_material(&text[found.end()..])
        } else {
            secret != AWS_DOCUMENTATION_EXAMPLE && !is_placeholder(&secret[prefix..])
        };
        if !reported {
            continue;
        }
        line += text[counted..found.start()].matches('\n').count();
        counted = found.start();
        let line_start = text[..found.start()].rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..found.start()].chars().count() + 1;
        let message = if secret.starts_with("-----BEGIN") {
            format!("{kind} (`{}`) at column {column}", secret.trim_matches('-'))
        } else {
            let shown: String = secret.chars().take(4).collect();
            format!("{kind} ({shown}…) at column {column}")
        };
        out.add(&SEC001, &file.path, Some(line), message);
    }
}

/// Lockfiles accepted for a manifest, and whether one in a directory above also counts (a
/// workspace root).
struct Manifest {
    name: &'static str,
    /// The lockfiles named in a finding's message.
    hint: &'static str,
    lockfiles: &'static [&'static str],
    /// Lockfiles that may sit in a directory above (workspaces).
    workspace: &'static [&'static str],
}

/// npm's, Yarn's, pnpm's and Bun's lockfiles: beside a package.json or at its workspace root.
const NODE_LOCKFILES: &[&str] = &[
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "bun.lockb",
];

const MANIFESTS: &[Manifest] = &[
    Manifest {
        name: "package.json",
        hint: "package-lock.json, yarn.lock, pnpm-lock.yaml or bun.lock, here or in the workspace root",
        lockfiles: NODE_LOCKFILES,
        workspace: NODE_LOCKFILES,
    },
    Manifest {
        name: "pyproject.toml",
        hint: "uv.lock, poetry.lock, pdm.lock, pylock.toml or requirements*.txt",
        lockfiles: &["poetry.lock", "uv.lock", "pdm.lock", "pylock.toml"],
        workspace: &["uv.lock", "poetry.lock", "pdm.lock"],
    },
    Manifest {
        name: "Pipfile",
        hint: "Pipfile.lock",
        lockfiles: &["Pipfile.lock"],
        workspace: &[],
    },
    Manifest {
        name: "go.mod",
        hint: "go.sum",
        lockfiles: &["go.sum"],
        workspace: &[],
    },
    Manifest {
        name: "Cargo.toml",
        hint: "Cargo.lock, here or in the workspace root",
        lockfiles: &["Cargo.lock"],
        workspace: &["Cargo.lock"],
    },
    Manifest {
        name: "Gemfile",
        hint: "Gemfile.lock",
        lockfiles: &["Gemfile.lock"],
        workspace: &[],
    },
    Manifest {
        name: "composer.json",
        hint: "composer.lock",
        lockfiles: &["composer.lock"],
        workspace: &[],
    },
];

/// `dir/name`, or `name` at the root.
fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// The directories above `dir`, nearest first, the root (`""`) last.
fn ancestors(dir: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut current = dir;
    while let Some((parent, _)) = current.rsplit_once('/') {
        out.push(parent);
        current = parent;
    }
    if !dir.is_empty() {
        out.push("");
    }
    out
}

/// Whether a manifest declares anything to lock. Unreadable or unparsable files are given the
/// benefit of the doubt (no finding): the build tool reports those.
fn needs_lockfile(root: &Path, repo: &Repo, dir: &str, path: &str, name: &str) -> bool {
    let read = || std::fs::read_to_string(root.join(path)).ok();
    match name {
        "go.mod" => read().is_some_and(|text| {
            text.lines().any(|line| {
                let line = line.split("//").next().unwrap_or("").trim();
                line.strip_prefix("require")
                    .is_some_and(|rest| rest.starts_with([' ', '\t', '(']))
            })
        }),
        "Cargo.toml" => {
            let Some(manifest) = read().and_then(|t| t.parse::<toml::Table>().ok()) else {
                return false;
            };
            manifest.contains_key("package")
                && (manifest.contains_key("bin")
                    || repo.has(&join(dir, "src/main.rs"))
                    || repo
                        .files
                        .range(join(dir, "src/bin/")..)
                        .next()
                        .is_some_and(|f| f.starts_with(&join(dir, "src/bin/"))))
        }
        "package.json" => read()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .is_some_and(|manifest| {
                [
                    "dependencies",
                    "devDependencies",
                    "optionalDependencies",
                    "peerDependencies",
                ]
                .iter()
                .any(|key| {
                    manifest
                        .get(key)
                        .and_then(|d| d.as_object())
                        .is_some_and(|d| !d.is_empty())
                })
            }),
        "pyproject.toml" => {
            let Some(manifest) = read().and_then(|t| t.parse::<toml::Table>().ok()) else {
                return false;
            };
            let project = manifest.get("project");
            let poetry = manifest
                .get("tool")
                .and_then(|t| t.get("poetry"))
                .and_then(|p| p.get("dependencies"))
                .and_then(|d| d.as_table());
            project.is_some_and(|p| {
                p.get("dependencies")
                    .and_then(|d| d.as_array())
                    .is_some_and(|d| !d.is_empty())
                    || p.get("optional-dependencies")
                        .and_then(|d| d.as_table())
                        .is_some_and(|d| !d.is_empty())
            }) || poetry.is_some_and(|d| d.keys().any(|k| k != "python"))
        }
        _ => true,
    }
}

pub fn lockfiles(root: &Path, repo: &Repo, out: &mut Findings) {
    for path in &repo.files {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        let Some(manifest) = MANIFESTS.iter().find(|m| m.name == name) else {
            continue;
        };
        if dir
            .split('/')
            .any(|part| part == "node_modules" || part == "vendor")
        {
            continue;
        }
        let beside = manifest.lockfiles.iter().any(|l| repo.has(&join(dir, l)));
        let above = || {
            ancestors(dir)
                .iter()
                .any(|d| manifest.workspace.iter().any(|l| repo.has(&join(d, l))))
        };
        let requirements = || {
            name == "pyproject.toml"
                && repo
                    .files
                    .range(join(dir, "requirements")..)
                    .take_while(|f| f.starts_with(&join(dir, "requirements")))
                    .any(|f| f.ends_with(".txt"))
        };
        if beside || above() || requirements() || !needs_lockfile(root, repo, dir, path, name) {
            continue;
        }
        out.add(
            &LCK001,
            path,
            None,
            format!(
                "{name} without a committed lockfile (expected {}; one in .gitignore counts as \
                 missing)",
                manifest.hint
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(Option<usize>, String)> {
        let mut out = Findings::default();
        secrets(
            &Source {
                path: "f".into(),
                text: text.into(),
            },
            &mut out,
        );
        out.iter().map(|f| (f.line, f.message.clone())).collect()
    }

    // Every credential below is fake test data built to match the patterns.
    #[test]
    fn credentials_are_found_with_their_line_and_never_printed() {
        let aws = format!("AKIA{}", "Z7XQFAKEFAKE0001");
        let text = format!("a\nkey = \"{aws}\"\nb {aws}\n");
        let got = found(&text);
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0],
            (Some(2), "AWS access key id (AKIA…) at column 8".into())
        );
        assert_eq!(got[1].0, Some(3));
        assert!(got[0].1.contains("AWS access key id"));
        assert!(!got[0].1.contains(&aws));

        let github = format!("ghp_{}", "FAKE0fake1FAKE2fake3FAKE4fake5FAKE6f");
        assert_eq!(found(&format!("t={github}\n")).len(), 1);
        let pat = format!("github_pat_{}", "F4KE_".repeat(16) + "ab");
        assert_eq!(found(&pat).len(), 1);
        let gitlab = format!("glpat-{}", "FAKEfake-0123456789_x");
        assert_eq!(found(&gitlab).len(), 1);
        let slack = format!("xoxb-{}", "000000000000-FAKEfakeFAKEfake");
        assert_eq!(found(&slack).len(), 1);
        let google = format!("AIza{}", "FAKE_fake-0123456789abcdefghijklmno");
        assert_eq!(found(&google).len(), 1);
        let stripe = format!("sk_live_{}", "0FAKE0TEST0DATA0NOT0REAL0");
        assert_eq!(found(&stripe).len(), 1);
    }

    #[test]
    fn examples_placeholders_and_lookalikes_are_not_credentials() {
        assert!(found("aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n").is_empty());
        assert!(found(&format!("ghp_{}", "x".repeat(36))).is_empty());
        assert!(found(&format!("XAKIA{}", "Z7XQFAKEFAKE0001")).is_empty());
        assert!(found("set SLACK_TOKEN=xoxb-your-token-here\n").is_empty());
        assert!(found("a `-----BEGIN RSA PRIVATE KEY-----` header marks a key\n").is_empty());
        // Built with format! so that this source file does not hold a key-shaped block itself.
        let marker = "-----BEGIN OPENSSH PRIVATE KEY-----";
        let got = found(&format!("{marker}\n{}\n", "b3BlbnNzaC1rZXktdjEAAAAAFAKE"));
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].1,
            "private key (`BEGIN OPENSSH PRIVATE KEY`) at column 1"
        );
        // As an escaped string in JSON (a cloud service-account key file).
        let marker = "-----BEGIN PRIVATE KEY-----";
        let json = format!(
            "\"private_key\": \"{marker}\\n{}\\n\"",
            "MIIEvgIBADANBgkqhkiFAKE"
        );
        assert_eq!(found(&json).len(), 1);
        // PEM headers of an encrypted key come before the material.
        let marker = "-----BEGIN RSA PRIVATE KEY-----";
        let encrypted = format!(
            "{marker}\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n{}",
            "FAKEbase64FAKEbase64FAKE"
        );
        assert_eq!(found(&encrypted).len(), 1);
        // A marker named in code or prose, long identifiers on the next lines.
        let code = format!("if line == \"{marker}\" {{\n    parse_the_private_key_material_here()");
        assert!(found(&code).is_empty());
    }
}
