//! CI rules (CI…): GitHub Actions workflows and GitLab CI files.
//!
//! Anchors and `<<` merge keys copy nodes together with their lines, so a template shared by
//! several jobs is reported once, at the line that defines it: findings are kept one per rule
//! and line. GitLab `extends:` is not resolved; hidden jobs (`.name`), which it extends, are
//! checked like any job.

use std::collections::BTreeSet;

use super::compose::image_problem;
use super::yaml::{Node, Value};
use super::{Findings, Rule, Severity, Source};

pub static CI001: Rule = Rule {
    id: "CI001",
    severity: Severity::Error,
    title: "GitHub Actions are pinned to a full commit SHA",
    fix: "Pin `uses:` to a release's 40-character commit SHA, e.g. `actions/checkout@<sha> # v7.0.1`",
    explain: "\
A tag such as `v4` or a branch such as `main` is a pointer that the action's owner, or whoever
takes over their account, can move at any time; the next run executes the new code with this
workflow's token and secrets. That is how the tj-actions/changed-files compromise and the
trivy-action tag rewrite reached the repositories that used them. A full commit SHA cannot be
moved. Renovate or Dependabot keep it current, and a trailing comment records the release.
Reusable workflows (`jobs.<id>.uses`) are pinned the same way, and `docker://` images need an
`@sha256:` digest.

Passes: `uses: actions/checkout@<40-hex commit>  # v7.0.1`, and local actions (`uses: ./x`).

Suppress one reference with `# infra-new:ignore CI001 <reason>` on or above its `uses:` line.",
};

pub static CI002: Rule = Rule {
    id: "CI002",
    severity: Severity::Warning,
    title: "Workflow tokens get only the permissions their jobs need",
    fix: "Set `permissions: {}` at the top and grant scopes in each job, writes only where needed",
    explain: "\
Every job receives a GITHUB_TOKEN. Without a `permissions:` block it carries the repository's
default scopes, which are read and write on nearly everything wherever the permissive default
was kept: a compromised dependency or a script injection in a test job can then push commits,
publish packages or cut releases. Declaring permissions caps the token, and declaring writes
per job keeps them in the one job that deploys or publishes.

Reported: a job without `permissions:` in a workflow that sets none at the top; `write-all`
anywhere; a `write` scope at the top that two or more jobs inherit.

Passes:
  permissions: {}
  jobs:
    build:
      permissions:
        contents: read
        packages: write

Suppress with `# infra-new:ignore CI002 <reason>` on or above the reported line.",
};

pub static CI003: Rule = Rule {
    id: "CI003",
    severity: Severity::Error,
    title: "CI signs in to clouds with OIDC, not stored keys",
    fix: "Let the cloud trust the CI's OIDC token (IAM role, workload identity, federated credential)",
    explain: "\
An access key, a service-account key file or a client secret stored in CI never expires by
itself, works from anywhere, and is readable by every job that can reference it, including a
job that a pull request from a branch has just changed. Leaked through a log or a compromised
action, it keeps working until someone notices and rotates it. With OIDC the job presents a
short-lived token signed by GitHub or GitLab; the cloud checks the repository, branch and
environment it names and returns credentials that expire after about an hour. Nothing is
stored, so nothing needs rotating.

Reported: `env:`, `with:` and `variables:` entries named AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, GOOGLE_CREDENTIALS, GCP_SA_KEY, AZURE_CREDENTIALS, ARM_CLIENT_SECRET and
similar when they take a stored value, the `credentials_json` input of google-github-actions/auth,
the `creds` input of azure/login, `secrets.<NAME>` expressions, and `$NAME` in GitLab scripts.
Placeholder values written in the file (for LocalStack or moto) pass.

Passes: on GitHub, `permissions: {id-token: write}` with configure-aws-credentials'
`role-to-assume`, google-github-actions/auth's `workload_identity_provider` or azure/login's
`client-id`; on GitLab, an `id_tokens:` token exchanged for the same.

Suppress with `# infra-new:ignore CI003 <reason>` where a provider cannot federate.",
};

pub static CI004: Rule = Rule {
    id: "CI004",
    severity: Severity::Error,
    title: "CI job images are pinned to a version",
    fix: "Give the job's image an exact version tag (or a digest), e.g. `node:22.17.1-bookworm`",
    explain: "\
A job image without a tag, or tagged `latest`, changes under the pipeline whenever its
publisher pushes: yesterday's green build fails with no commit to blame, and a broken or
compromised release runs with the job's tokens and deploy credentials. An exact tag turns the
upgrade into a reviewed change (Renovate bumps it); a digest also guards against re-pushed tags.

Checked: GitLab `image:` and `services:` (top level, `default:`, jobs and hidden templates), and
GitHub `jobs.<id>.container` and `jobs.<id>.services.<name>.image`. A reference built from
variables is checked when the file defines them and skipped otherwise (`$CI_REGISTRY_IMAGE:…`,
`${{ matrix.image }}`).

Passes: `image: docker.io/library/alpine:3.22.1`, `image: node:22@sha256:<digest>`.

Suppress with `# infra-new:ignore CI004 <reason>` on or above the image line.",
};

pub static RULES: &[&Rule] = &[&CI001, &CI002, &CI003, &CI004];

pub fn check_github(file: &Source, documents: &[Node], out: &mut Findings) {
    let mut out = Out::new(file, out);
    for document in documents.iter().filter(|d| d.is_map()) {
        let jobs: Vec<(&str, &Node)> = document
            .get("jobs")
            .map(pairs)
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, _, job)| job.is_map())
            .map(|(name, _, job)| (name, job))
            .collect();
        github_keys(document, &jobs, &mut out);
        github_secret_refs(document, &mut out);
        for &(name, job) in &jobs {
            github_actions(job, &mut out);
            github_images(name, job, &mut out);
        }
        github_permissions(document, &jobs, &mut out);
    }
}

pub fn check_gitlab(file: &Source, documents: &[Node], out: &mut Findings) {
    let mut out = Out::new(file, out);
    for document in documents.iter().filter(|d| d.is_map()) {
        let globals = document.get("variables");
        // (label, (job name, node)): the top level and `default:` first, then every job.
        let mut scopes: Vec<(String, (Option<&str>, &Node))> =
            vec![("the top level".to_owned(), (None, document))];
        if let Some(default) = document.get("default").filter(|d| d.is_map()) {
            scopes.push(("`default:`".to_owned(), (None, default)));
        }
        for (name, _, job) in pairs(document) {
            if !GITLAB_KEYWORDS.contains(&name) && job.is_map() {
                scopes.push((format!("job `{name}`"), (Some(name), job)));
            }
        }
        let templates: Vec<(&str, &Node)> = scopes[1..]
            .iter()
            .filter_map(|(_, (name, job))| Some((name.as_deref()?, *job)))
            .collect();
        for (index, (label, (_, job))) in scopes.iter().enumerate() {
            let ancestors = if index == 0 {
                Vec::new()
            } else {
                extended(job, &templates)
            };
            // The top level's own `variables:` are the globals; `default:` has none.
            let own = if index == 0 {
                globals
            } else {
                job.get("variables")
            };
            let mut variables = vec![own];
            variables.extend(ancestors.iter().map(|a| a.get("variables")));
            variables.push(globals);
            gitlab_images(label, job, &variables, &mut out);
            gitlab_credentials(job, own, &ancestors, &mut out);
        }
        for rule in document
            .at(&["workflow", "rules"])
            .map_or(&[][..], Node::items)
        {
            if let Some(variables) = rule.get("variables") {
                gitlab_variables(variables, &mut out);
            }
        }
    }
}

/// The jobs `job` extends (`extends:`), directly or through each other, among those of the
/// same file (templates from included files are not visible here).
fn extended<'a>(job: &'a Node, templates: &[(&str, &'a Node)]) -> Vec<&'a Node> {
    let mut found: Vec<&Node> = Vec::new();
    let mut pending = vec![job];
    while let Some(next) = pending.pop() {
        let Some(extends) = next.get("extends") else {
            continue;
        };
        let names = match extends.as_str() {
            Some(name) => vec![name],
            None => extends.items().iter().filter_map(Node::as_str).collect(),
        };
        for name in names {
            if let Some(&(_, parent)) = templates.iter().find(|(n, _)| *n == name)
                && found.len() < 16
                && !found.iter().any(|f| std::ptr::eq(*f, parent))
            {
                found.push(parent);
                pending.push(parent);
            }
        }
    }
    found
}

/// Top-level keys of a GitLab CI file that are not jobs.
const GITLAB_KEYWORDS: &[&str] = &[
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "types",
    "spec",
];

/// One file's findings, one per rule and line.
struct Out<'a> {
    path: &'a str,
    text: &'a str,
    findings: &'a mut Findings,
    seen: BTreeSet<(&'static str, usize)>,
}

impl<'a> Out<'a> {
    fn new(file: &'a Source, findings: &'a mut Findings) -> Self {
        Out {
            path: &file.path,
            text: &file.text,
            findings,
            seen: BTreeSet::new(),
        }
    }

    fn add(&mut self, rule: &'static Rule, line: usize, message: String) {
        if self.seen.insert((rule.id, line)) {
            self.findings.add(rule, self.path, Some(line), message);
        }
    }

    /// The line inside a scalar value where `needle` is written (a `run: |` block spans many
    /// lines), or the value's own line.
    fn line_of(&self, node: &Node, needle: &str) -> usize {
        let span = node.as_str().map_or(1, |t| t.lines().count().max(1)) + 1;
        let needle = needle.to_ascii_lowercase();
        self.text
            .lines()
            .enumerate()
            .skip(node.line.saturating_sub(1))
            .take(span)
            .find(|(_, line)| line.to_ascii_lowercase().contains(&needle))
            .map_or(node.line, |(index, _)| index + 1)
    }
}

/// A mapping's entries as (key, key node, value), own keys first, then those merged in with
/// `<<` that the mapping does not override.
fn pairs(node: &Node) -> Vec<(&str, &Node, &Node)> {
    let mut found = Vec::new();
    collect_pairs(node, &mut found, 0);
    found
}

fn collect_pairs<'a>(node: &'a Node, found: &mut Vec<(&'a str, &'a Node, &'a Node)>, depth: u8) {
    let Value::Map(entries) = &node.value else {
        return;
    };
    for (key_node, value) in entries {
        if let Some(key) = key_node.as_str()
            && key != "<<"
            && !found.iter().any(|(k, _, _)| *k == key)
        {
            found.push((key, key_node, value));
        }
    }
    if depth >= 8 {
        return;
    }
    for (key_node, value) in entries {
        if key_node.as_str() == Some("<<") {
            match &value.value {
                Value::Seq(items) => {
                    for item in items {
                        collect_pairs(item, found, depth + 1);
                    }
                }
                _ => collect_pairs(value, found, depth + 1),
            }
        }
    }
}

/// Calls `visit` on every scalar value (not keys) under `node`; merged copies are skipped, the
/// anchored original is visited where it is written.
fn scalars<'a>(node: &'a Node, visit: &mut impl FnMut(&'a Node, &'a str)) {
    match &node.value {
        Value::Scalar { text, .. } => visit(node, text),
        Value::Seq(items) => items.iter().for_each(|item| scalars(item, visit)),
        Value::Map(entries) => {
            for (key, value) in entries {
                if key.as_str() != Some("<<") {
                    scalars(value, visit);
                }
            }
        }
    }
}

// ---- CI001: actions pinned by SHA ----

fn github_actions(job: &Node, out: &mut Out) {
    let steps = job.get("steps").map_or(&[][..], Node::items);
    let uses = job
        .get("uses")
        .into_iter()
        .chain(steps.iter().filter_map(|step| step.get("uses")));
    for node in uses {
        if let Some(reference) = node.as_str()
            && let Some(problem) = action_problem(reference.trim())
        {
            out.add(&CI001, node.line, problem);
        }
    }
}

/// Why an action reference is not pinned, or `None` when it is (or is local).
fn action_problem(reference: &str) -> Option<String> {
    if reference.starts_with("./") || reference.starts_with("../") || reference.contains("${{") {
        return None;
    }
    if let Some(image) = reference.strip_prefix("docker://") {
        return (!image.contains("@sha256:")).then(|| {
            format!("`{reference}` runs an image by tag, which can be re-pushed: pin `@sha256:`")
        });
    }
    let Some((action, pin)) = reference.rsplit_once('@') else {
        return Some(format!(
            "`{reference}` names no ref at all: pin a commit SHA"
        ));
    };
    let hex = !pin.is_empty() && pin.bytes().all(|b| b.is_ascii_hexdigit());
    if hex && pin.len() == 40 {
        return None;
    }
    let what = if hex && pin.len() >= 7 {
        "an abbreviated commit SHA: only all 40 characters name one commit for sure"
    } else if matches!(pin, "main" | "master" | "develop" | "trunk" | "HEAD") {
        "a branch: every push to it changes what runs"
    } else {
        "a tag or branch, which can be moved to other code"
    };
    Some(format!("`{action}` is pinned to `{pin}`, {what}"))
}

// ---- CI002: token permissions ----

fn github_permissions(document: &Node, jobs: &[(&str, &Node)], out: &mut Out) {
    match document.get("permissions") {
        None if jobs.is_empty() => out.add(
            &CI002,
            document.line,
            "no `permissions:` at the top: jobs added later get the default token".into(),
        ),
        None => {
            for &(name, job) in jobs {
                if job.get("permissions").is_none() {
                    out.add(
                        &CI002,
                        job.line,
                        format!(
                            "job `{name}` has the repository's default token permissions \
                             (no `permissions:` here or at the top)"
                        ),
                    );
                }
            }
        }
        Some(top) if top.as_str() == Some("write-all") => out.add(
            &CI002,
            top.line,
            "`permissions: write-all` at the top gives every job every write scope".into(),
        ),
        Some(top) => {
            let inheriting: Vec<&str> = jobs
                .iter()
                .filter(|(_, job)| job.get("permissions").is_none())
                .map(|(name, _)| *name)
                .collect();
            if inheriting.len() >= 2 {
                let names = inheriting
                    .iter()
                    .take(3)
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let more = if inheriting.len() > 3 { ", …" } else { "" };
                for (scope, _, level) in pairs(top) {
                    if level.as_str() == Some("write") {
                        out.add(
                            &CI002,
                            level.line,
                            format!(
                                "`{scope}: write` at the top reaches {} jobs ({names}{more}): \
                                 grant it in the jobs that need it",
                                inheriting.len()
                            ),
                        );
                    }
                }
            }
        }
    }
    for &(name, job) in jobs {
        if let Some(permissions) = job.get("permissions")
            && permissions.as_str() == Some("write-all")
        {
            out.add(
                &CI002,
                permissions.line,
                format!("job `{name}` has `permissions: write-all`: name the scopes it writes"),
            );
        }
    }
}

// ---- CI003: static cloud credentials ----

#[derive(Clone, Copy)]
enum Cloud {
    Aws,
    Gcp,
    Azure,
}

impl Cloud {
    fn credential(self) -> &'static str {
        match self {
            Cloud::Aws => "a long-lived AWS access key",
            Cloud::Gcp => "a Google Cloud service-account key",
            Cloud::Azure => "an Azure client secret",
        }
    }

    fn github_way(self) -> &'static str {
        match self {
            Cloud::Aws => "assume a role with OIDC (`id-token: write`, `role-to-assume`)",
            Cloud::Gcp => "use Workload Identity Federation (`workload_identity_provider`)",
            Cloud::Azure => "use a federated credential (azure/login with `client-id`, no secret)",
        }
    }

    fn gitlab_way(self) -> &'static str {
        match self {
            Cloud::Aws => "assume a role with an `id_tokens:` OIDC token",
            Cloud::Gcp => "use Workload Identity Federation with an `id_tokens:` token",
            Cloud::Azure => "log in with a federated credential and an `id_tokens:` token",
        }
    }
}

/// Names of long-lived cloud credentials (compared upper-case, `-` as `_`).
const CREDENTIALS: &[(&str, Cloud)] = &[
    ("AWS_ACCESS_KEY_ID", Cloud::Aws),
    ("AWS_SECRET_ACCESS_KEY", Cloud::Aws),
    ("GOOGLE_CREDENTIALS", Cloud::Gcp),
    ("GOOGLE_APPLICATION_CREDENTIALS_JSON", Cloud::Gcp),
    ("GCP_SA_KEY", Cloud::Gcp),
    ("AZURE_CREDENTIALS", Cloud::Azure),
    ("ARM_CLIENT_SECRET", Cloud::Azure),
    ("AZURE_CLIENT_SECRET", Cloud::Azure),
];

/// The cloud whose long-lived credential `name` holds: one of [`CREDENTIALS`], alone or with a
/// prefix or suffix word (`PROD_AWS_SECRET_ACCESS_KEY`, `AWS_ACCESS_KEY_ID_CI`), but not a
/// `_FILE`/`_PATH` pointing at one.
fn credential(name: &str) -> Option<Cloud> {
    // Compared byte by byte, upper-case with `-` as `_`: this runs for every `$NAME` in a script.
    let norm = |b: u8| {
        if b == b'-' {
            b'_'
        } else {
            b.to_ascii_uppercase()
        }
    };
    let same =
        |a: &[u8], b: &[u8]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| norm(*x) == *y);
    let name = name.trim().as_bytes();
    CREDENTIALS.iter().find_map(|&(known, cloud)| {
        let known = known.as_bytes();
        let last = name.len().checked_sub(known.len())?;
        (0..=last)
            .any(|at| {
                let after = &name[at + known.len()..];
                same(&name[at..at + known.len()], known)
                    && (at == 0 || norm(name[at - 1]) == b'_')
                    && (after.is_empty()
                        || (norm(after[0]) == b'_'
                            && !same(after, b"_FILE")
                            && !same(after, b"_PATH")))
            })
            .then_some(cloud)
    })
}

/// Whether a GitHub value can carry a stored credential: an expression reading secrets,
/// variables or inputs. Literals (placeholders for emulators), step or job outputs and `env.`
/// (where configure-aws-credentials leaves the short-lived keys of an OIDC sign-in) cannot.
fn github_stored(value: &Node) -> bool {
    let Some(text) = value.as_str() else {
        return false;
    };
    text.split("${{").skip(1).any(|expression| {
        let body = expression.split("}}").next().unwrap_or("");
        ["secrets", "vars.", "inputs."]
            .iter()
            .any(|context| body.contains(context))
    })
}

fn github_keys(document: &Node, jobs: &[(&str, &Node)], out: &mut Out) {
    let named = |map: Option<&Node>, what: &str, out: &mut Out| {
        for (key, key_node, value) in map.map(pairs).unwrap_or_default() {
            if let Some(cloud) = credential(key)
                && github_stored(value)
            {
                out.add(
                    &CI003,
                    key_node.line,
                    format!(
                        "{what} `{key}` passes {}: {}",
                        cloud.credential(),
                        cloud.github_way()
                    ),
                );
            }
        }
    };
    named(document.get("env"), "env", out);
    // A reusable workflow asking its callers for a key.
    if let Some(declared) = document.at(&["on", "workflow_call", "secrets"]) {
        for (key, key_node, _) in pairs(declared) {
            if let Some(cloud) = credential(key) {
                out.add(
                    &CI003,
                    key_node.line,
                    format!(
                        "the workflow takes secret `{key}`, {}: {}",
                        cloud.credential(),
                        cloud.github_way()
                    ),
                );
            }
        }
    }
    for &(_, job) in jobs {
        named(job.get("env"), "env", out);
        named(job.get("with"), "input", out);
        named(job.get("secrets"), "secret", out);
        named(job.at(&["container", "env"]), "env", out);
        for (_, _, service) in job.get("services").map(pairs).unwrap_or_default() {
            named(service.get("env"), "env", out);
        }
        for step in job.get("steps").map_or(&[][..], Node::items) {
            named(step.get("env"), "env", out);
            named(step.get("with"), "input", out);
            let action = step
                .get("uses")
                .and_then(Node::as_str)
                .map(|u| u.split('@').next().unwrap_or(u).to_ascii_lowercase());
            let (input, cloud) = match action.as_deref() {
                Some("google-github-actions/auth") => ("credentials_json", Cloud::Gcp),
                Some("azure/login") => ("creds", Cloud::Azure),
                _ => continue,
            };
            if let Some(value) = step.at(&["with", input])
                && value.as_str().is_some_and(|v| !v.trim().is_empty())
            {
                out.add(
                    &CI003,
                    value.line,
                    format!(
                        "input `{input}` passes {}: {}",
                        cloud.credential(),
                        cloud.github_way()
                    ),
                );
            }
        }
    }
}

/// `secrets.NAME` and `secrets['NAME']` references to credential names, anywhere in a value.
fn github_secret_refs(document: &Node, out: &mut Out) {
    scalars(document, &mut |node, text| {
        for name in secret_names(text) {
            if let Some(cloud) = credential(name) {
                let line = out.line_of(node, name);
                out.add(
                    &CI003,
                    line,
                    format!(
                        "`secrets.{name}` is {}: {}",
                        cloud.credential(),
                        cloud.github_way()
                    ),
                );
            }
        }
    });
}

fn secret_names(text: &str) -> Vec<&str> {
    const WORD: &[u8] = b"secrets";
    let bytes = text.as_bytes();
    let mut names = Vec::new();
    let starts = (0..bytes.len().saturating_sub(WORD.len() - 1))
        .filter(|&at| bytes[at..at + WORD.len()].eq_ignore_ascii_case(WORD));
    for at in starts {
        if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
            continue;
        }
        let rest = text[at + "secrets".len()..].trim_start();
        let name = if let Some(dotted) = rest.strip_prefix('.') {
            let dotted = dotted.trim_start();
            let end = dotted
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(dotted.len());
            &dotted[..end]
        } else if let Some(indexed) = rest.strip_prefix('[') {
            let indexed = indexed.trim_start().trim_start_matches(['\'', '"']);
            let end = indexed.find(['\'', '"', ']']).unwrap_or(indexed.len());
            &indexed[..end]
        } else {
            continue;
        };
        if !name.is_empty() {
            names.push(name);
        }
    }
    names
}

fn gitlab_variables(variables: &Node, out: &mut Out) {
    for (key, key_node, value) in pairs(variables) {
        let text = value
            .as_str()
            .or_else(|| value.get("value").and_then(Node::as_str));
        if let Some(cloud) = credential(key)
            && text.is_some_and(|t| t.contains('$'))
        {
            out.add(
                &CI003,
                key_node.line,
                format!(
                    "variable `{key}` passes {}: {}",
                    cloud.credential(),
                    cloud.gitlab_way()
                ),
            );
        }
    }
}

/// A GitLab job (or the top level, or `default:`): its own `variables:` and the `$NAME` uses of
/// credentials in its scripts and variables. A job that assigns the variable itself (`NAME=…`,
/// as after `aws sts assume-role-with-web-identity`) holds a short-lived credential.
fn gitlab_credentials(job: &Node, variables: Option<&Node>, ancestors: &[&Node], out: &mut Out) {
    if let Some(variables) = variables {
        gitlab_variables(variables, out);
    }
    if let Some(rules) = job.get("rules") {
        for rule in rules.items() {
            if let Some(variables) = rule.get("variables") {
                gitlab_variables(variables, out);
            }
        }
    }
    let mut texts: Vec<(&Node, &str)> = Vec::new();
    for key in ["before_script", "script", "after_script"] {
        if let Some(script) = job.get(key) {
            scalars(script, &mut |node, text| texts.push((node, text)));
        }
    }
    let scripts = texts.len();
    if let Some(variables) = variables {
        scalars(variables, &mut |node, text| texts.push((node, text)));
    }
    let mut inherited: Vec<&str> = Vec::new();
    for ancestor in ancestors {
        for key in ["before_script", "script", "after_script"] {
            if let Some(script) = ancestor.get(key) {
                scalars(script, &mut |_, text| inherited.push(text));
            }
        }
    }
    for (index, &(node, text)) in texts.iter().enumerate() {
        for (written, name) in dollar_names(text) {
            let Some(cloud) = credential(name) else {
                continue;
            };
            let mut shell = texts[..scripts]
                .iter()
                .map(|(_, t)| *t)
                .chain(inherited.iter().copied());
            if shell.any(|t| assigns(t, name)) {
                continue;
            }
            let line = out.line_of(node, written);
            let place = if index < scripts {
                "script"
            } else {
                "variable"
            };
            out.add(
                &CI003,
                line,
                format!(
                    "{place} uses `{written}`, {}: {}",
                    cloud.credential(),
                    cloud.gitlab_way()
                ),
            );
        }
    }
}

/// `$NAME`, `${NAME}` and `$env:NAME` in a shell line: (as written, NAME).
fn dollar_names(text: &str) -> Vec<(&str, &str)> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut found = Vec::new();
    for (at, _) in text.match_indices('$') {
        let rest = &text[at + 1..];
        let (skip, braced) = if rest.starts_with('{') {
            (1, true)
        } else if rest.starts_with("env:") {
            (4, false)
        } else {
            (0, false)
        };
        let name_part = &rest[skip..];
        let end = name_part.find(|c| !ident(c)).unwrap_or(name_part.len());
        if end == 0 {
            continue;
        }
        let name = &name_part[..end];
        let written_end =
            at + 1 + skip + end + usize::from(braced && name_part[end..].starts_with('}'));
        found.push((&text[at..written_end], name));
    }
    found
}

/// Whether a shell text assigns `name` on some line: `NAME=…`, `export … NAME`, `read … NAME`.
fn assigns(text: &str, name: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.lines().any(|line| {
        line.match_indices(name).any(|(at, _)| {
            let before = &line[..at];
            let after = &line[at + name.len()..];
            let word = !before.ends_with(|c: char| ident(c) || c == '$' || c == '{')
                && !after.starts_with(ident);
            word && (after.starts_with('=')
                || before
                    .split_whitespace()
                    .any(|w| w == "export" || w == "read"))
        })
    })
}

// ---- CI004: job images ----

fn github_images(name: &str, job: &Node, out: &mut Out) {
    let container = job.get("container").map(|c| c.get("image").unwrap_or(c));
    let services = job
        .get("services")
        .map(pairs)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(service, _, node)| Some((service, node.get("image")?)));
    let images = container
        .map(|image| ("container".to_owned(), image))
        .into_iter()
        .chain(services.map(|(service, image)| (format!("service `{service}`"), image)));
    for (what, node) in images {
        let Some(reference) = node.as_str() else {
            continue;
        };
        if reference.contains("${{") {
            continue;
        }
        if let Some(problem) = image_problem(reference) {
            out.add(
                &CI004,
                node.line,
                format!("job `{name}`: {what} image `{reference}` has {problem}"),
            );
        }
    }
}

fn gitlab_images(label: &str, job: &Node, variables: &[Option<&Node>], out: &mut Out) {
    let image = job
        .get("image")
        .map(|i| ("image", i.get("name").unwrap_or(i)));
    let services = job
        .get("services")
        .map_or(&[][..], Node::items)
        .iter()
        .map(|s| ("service image", s.get("name").unwrap_or(s)));
    for (what, node) in image.into_iter().chain(services) {
        let Some(written) = node.as_str() else {
            continue;
        };
        let Some(reference) = gitlab_expand(written, variables, 0) else {
            continue;
        };
        if let Some(problem) = image_problem(&reference) {
            let shown = if reference == written {
                format!("`{written}`")
            } else {
                format!("`{written}` (`{reference}`)")
            };
            out.add(
                &CI004,
                node.line,
                format!("{label}: {what} {shown} has {problem}"),
            );
        }
    }
}

/// Expands `$NAME` and `${NAME}` from the file's own variables (the job's, then the global
/// ones); `None` when a variable is not defined in the file (predefined or set in settings).
fn gitlab_expand(text: &str, variables: &[Option<&Node>], depth: u8) -> Option<String> {
    if !text.contains('$') {
        return Some(text.to_owned());
    }
    if depth > 4 {
        return None;
    }
    let mut result = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        result.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            result.push('$');
            rest = tail;
            continue;
        }
        let (braced, body) = match after.strip_prefix('{') {
            Some(body) => (true, body),
            None => (false, after),
        };
        let end = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(body.len());
        if end == 0 {
            result.push('$');
            rest = after;
            continue;
        }
        if braced && !body[end..].starts_with('}') {
            return None;
        }
        let name = &body[..end];
        let value = variables.iter().flatten().find_map(|scope| {
            pairs(scope)
                .into_iter()
                .find(|(key, _, _)| *key == name)
                .and_then(|(_, _, v)| v.as_str().or_else(|| v.get("value")?.as_str()))
        })?;
        result.push_str(&gitlab_expand(value, variables, depth + 1)?);
        rest = &body[end + usize::from(braced)..];
    }
    result.push_str(rest);
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::yaml;

    fn run(path: &str, text: &str) -> Vec<(&'static str, usize)> {
        let source = Source {
            path: path.into(),
            text: text.into(),
        };
        let documents = yaml::parse(text).unwrap();
        let mut out = Findings::default();
        if path.starts_with(".github") {
            check_github(&source, &documents, &mut out);
        } else {
            check_gitlab(&source, &documents, &mut out);
        }
        let mut found: Vec<_> = out
            .iter()
            .map(|f| (f.rule.id, f.line.unwrap_or(0)))
            .collect();
        found.sort();
        found
    }

    #[test]
    fn action_references_need_a_full_sha() {
        let sha = "3d3c42e5aac5ba805825da76410c181273ba90b1";
        assert_eq!(action_problem(&format!("actions/checkout@{sha}")), None);
        assert_eq!(
            action_problem(&format!("github/codeql-action/upload-sarif@{sha}")),
            None
        );
        assert_eq!(action_problem("./.github/actions/setup"), None);
        assert_eq!(action_problem("docker://alpine@sha256:0123"), None);
        for bad in [
            "actions/checkout@v4",
            "actions/checkout@main",
            "actions/checkout@3d3c42e",
            "actions/checkout",
            "docker://alpine:3.22",
            "acme/workflows/.github/workflows/build.yml@v1",
        ] {
            assert!(action_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn credential_names_match_whole_words() {
        assert!(credential("AWS_SECRET_ACCESS_KEY").is_some());
        assert!(credential("aws-access-key-id").is_some());
        assert!(credential("PROD_AWS_SECRET_ACCESS_KEY").is_some());
        assert!(credential("AWS_ACCESS_KEY_ID_CI").is_some());
        assert!(credential("GOOGLE_APPLICATION_CREDENTIALS").is_none());
        assert!(credential("AWS_ROLE_ARN").is_none());
        assert!(credential("ARM_CLIENT_ID").is_none());
        assert!(credential("MYAWS_ACCESS_KEY_ID").is_none());
        assert!(credential("AWS_SECRET_ACCESS_KEY_FILE").is_none());
    }

    #[test]
    fn secret_and_dollar_references_are_found() {
        assert_eq!(
            secret_names("${{ secrets.AWS_KEY }} ${{ secrets['GCP_SA_KEY'] }} mysecrets.X"),
            ["AWS_KEY", "GCP_SA_KEY"]
        );
        assert_eq!(
            dollar_names("x $A ${B}c $env:C $$ $1 ${D"),
            [
                ("$A", "A"),
                ("${B}", "B"),
                ("$env:C", "C"),
                ("$1", "1"),
                ("${D", "D")
            ]
        );
        assert!(assigns(
            "export AWS_SECRET_ACCESS_KEY=$(x)",
            "AWS_SECRET_ACCESS_KEY"
        ));
        assert!(assigns(
            "read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY <<< \"$c\"",
            "AWS_SECRET_ACCESS_KEY"
        ));
        assert!(assigns(
            "export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY",
            "AWS_SECRET_ACCESS_KEY"
        ));
        assert!(!assigns(
            "already set: $AWS_SECRET_ACCESS_KEY",
            "AWS_SECRET_ACCESS_KEY"
        ));
        assert!(!assigns(
            "aws configure set k $AWS_SECRET_ACCESS_KEY",
            "AWS_SECRET_ACCESS_KEY"
        ));
    }

    #[test]
    fn keys_count_when_they_take_a_stored_value() {
        let text = "\
on: push
permissions: {}
jobs:
  a:
    permissions: {}
    env:
      AWS_ACCESS_KEY_ID: test
      AWS_SECRET_ACCESS_KEY: ${{ env.AWS_SECRET_ACCESS_KEY }}
      AWS_SESSION_TOKEN: ${{ steps.aws.outputs.aws-session-token }}
      GCP_SA_KEY: ${{ vars.KEY }}
      ARM_CLIENT_SECRET: ${{ inputs.secret }}
    steps:
      - run: echo
";
        assert_eq!(
            run(".github/workflows/x.yml", text),
            [("CI003", 10), ("CI003", 11)]
        );
    }

    #[test]
    fn permissions_findings() {
        let text = "\
on: push
jobs:
  a:
    runs-on: x
  b:
    permissions: write-all
    runs-on: x
";
        assert_eq!(
            run(".github/workflows/x.yml", text),
            [("CI002", 4), ("CI002", 6)]
        );
        let text = "\
on: push
permissions:
  contents: write
  id-token: write
jobs:
  a:
    runs-on: x
  b:
    runs-on: x
";
        assert_eq!(
            run(".github/workflows/x.yml", text),
            [("CI002", 3), ("CI002", 4)]
        );
        let single = text.replace("  b:\n    runs-on: x\n", "");
        assert_eq!(run(".github/workflows/x.yml", &single), []);
    }

    #[test]
    fn gitlab_images_resolve_file_variables_and_templates_report_once() {
        let text = "\
variables:
  NODE_IMAGE: node
  TAGGED: alpine:3.22
.base: &base
  image: $NODE_IMAGE
  services:
    - postgres
    - name: redis:7.4
a:
  <<: *base
  script: [echo]
b:
  extends: .base
  image: ${TAGGED}
  script: [echo]
c:
  image: $CI_REGISTRY_IMAGE:latest
  services: [{name: \"docker:latest\"}]
";
        assert_eq!(
            run(".gitlab-ci.yml", text),
            [("CI004", 5), ("CI004", 7), ("CI004", 18)]
        );
    }

    #[test]
    fn gitlab_script_credentials_unless_assigned() {
        let text = "\
deploy:
  variables:
    AWS_ACCESS_KEY_ID: $PROD_KEY_ID
    AWS_REGION: eu-west-1
    AWS_SECRET_ACCESS_KEY: test
  script:
    - |
      echo start
      aws configure set aws_secret_access_key ${AWS_SECRET_ACCESS_KEY}
oidc:
  script:
    - export ARM_CLIENT_SECRET=$(fetch)
    - az login --password \"$ARM_CLIENT_SECRET\"
";
        assert_eq!(run(".gitlab-ci.yml", text), [("CI003", 3), ("CI003", 9)]);
    }
}
