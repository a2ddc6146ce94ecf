//! Dockerfile rules (DF…), on a small parser of the Dockerfile syntax: parser directives, logical
//! instructions (line continuations, comments inside them, heredoc bodies), exec and shell form,
//! and build stages with the global `ARG` defaults substituted into `FROM`.

use std::collections::HashMap;

use super::yaml::SyntaxError;
use super::{Findings, Repo, Rule, Severity, Source};

pub static DF001: Rule = Rule {
    id: "DF001",
    severity: Severity::Warning,
    title: "Images are built in more than one stage",
    fix: "Build in a toolchain stage and `COPY --from=build` only the artefact into a slim runtime stage",
    explain: "\
With a single FROM, the image that compiles or installs the service is the image that runs it:
compilers, package managers, build caches and source code ship to production. That makes the
image larger, slower to pull and start, and gives an attacker who gets in far more to work with
(a shell, curl, a package manager). Every CVE in the toolchain is a CVE in the service.

Passes: a build stage and a runtime stage that copies only what runs:

    FROM golang:1.24-bookworm AS build
    RUN go build -o /out/server .
    FROM gcr.io/distroless/static-debian12:nonroot
    COPY --from=build /out/server /app/server

When the artefact is built outside Docker (CI copies a prebuilt binary in), one stage is the
design: record it with `# infra-new:ignore DF001 <reason>` above the FROM line.",
};

pub static DF002: Rule = Rule {
    id: "DF002",
    severity: Severity::Error,
    title: "The final stage runs as a non-root user",
    fix: "Add `USER 65532:65532` (or another unprivileged uid) to the final stage",
    explain: "\
A container that runs as root is root on the node's kernel as far as the kernel is concerned: a
container escape or a mounted host path gives full control, and Kubernetes Pod Security
`restricted` refuses such pods outright (runAsNonRoot). The user is set per stage: a USER in a
build stage does not carry over to a runtime stage that starts FROM another image.

Passes: the final stage ends with a numeric, unprivileged user (numeric, so the kubelet can
verify runAsNonRoot without reading /etc/passwd):

    FROM gcr.io/distroless/static-debian12:nonroot
    USER 65532:65532

A final stage built FROM an earlier stage of the same file inherits that stage's user. A base
image whose tag contains `nonroot` (the distroless `:nonroot` tags set USER 65532) counts as
non-root without a USER line; spelling the USER out anyway makes the intent visible. `USER root`,
`USER 0` or `USER 0:0` as the last USER is a finding.",
};

pub static DF003: Rule = Rule {
    id: "DF003",
    severity: Severity::Error,
    title: "Base images are pinned to a version or digest",
    fix: "Pin every FROM to an exact tag, ideally plus its digest: `node:22.12.0-bookworm-slim@sha256:…`",
    explain: "\
`FROM node` or `FROM node:latest` builds on whatever the registry serves that day: two builds of
the same commit produce different images, a new major version arrives unannounced, and a
rollback rebuilds something that never ran before. Build stages count as much as the runtime
stage: the toolchain decides what ends up in the artefact.

Passes: an explicit tag other than latest, best with the digest that freezes it (Renovate or
Dependabot keep both current):

    FROM python:3.13.1-slim-bookworm@sha256:<digest>
    ARG GO_VERSION=1.24.0
    FROM golang:${GO_VERSION}-bookworm AS build

ARG defaults declared before the first FROM are substituted; a FROM whose variable has no default
is set at build time and is not judged. FROM scratch and FROM <earlier stage> are not images.",
};

pub static DF004: Rule = Rule {
    id: "DF004",
    severity: Severity::Warning,
    title: "The final stage declares a HEALTHCHECK",
    fix: "Add `HEALTHCHECK CMD [\"/app/server\", \"healthcheck\"]` (exec form; the image may lack curl)",
    explain: "\
Without a HEALTHCHECK, Docker, Compose and Swarm only know whether the process exists, not whether
it serves: a deadlocked service stays `Up` and keeps receiving traffic, and `depends_on:
condition: service_healthy` has nothing to wait for. `HEALTHCHECK NONE` switches the check off and
counts as none.

Passes: a check in exec form that needs no shell or curl in the image:

    HEALTHCHECK --interval=30s --timeout=3s CMD [\"/app/server\", \"healthcheck\"]

Kubernetes ignores HEALTHCHECK entirely and uses the liveness and readiness probes of the pod
spec instead. If the image only ever runs there, leaving it out is a valid choice: record it with
`# infra-new:ignore DF004 probes are defined in the Deployment` above the final FROM.",
};

pub static DF005: Rule = Rule {
    id: "DF005",
    severity: Severity::Warning,
    title: "ENTRYPOINT and CMD of the final stage use exec form",
    fix: "Write the command as a JSON array: `ENTRYPOINT [\"/app/server\"]`",
    explain: "\
In shell form (`CMD node server.js`) Docker runs `/bin/sh -c \"node server.js\"`: the shell is
PID 1 and does not forward SIGTERM, so `docker stop` and Kubernetes wait out the grace period
and then kill the service with SIGKILL, dropping in-flight requests and skipping its shutdown.
Images without a shell (distroless, scratch) cannot start a shell-form command at all. A CMD in
shell form next to an exec-form ENTRYPOINT is passed to it as `/bin/sh -c …` arguments, which is
rarely what was meant.

Passes:

    ENTRYPOINT [\"/app/server\"]
    CMD [\"--port\", \"8080\"]

When a shell really is needed (variable expansion at start-up), end the command with `exec` so
the service replaces the shell, and suppress: `# infra-new:ignore DF005 <reason>`.",
};

pub static DF006: Rule = Rule {
    id: "DF006",
    severity: Severity::Warning,
    title: "The build context has a .dockerignore",
    fix: "Add a .dockerignore beside the Dockerfile, best as an allow-list: `*` then `!src/` …",
    explain: "\
Without a .dockerignore, `docker build .` sends the whole directory to the builder: .git, .env
files, local keys, node_modules and build outputs. A `COPY . .` then bakes them into a layer that
anyone who can pull the image can read, and every unrelated change invalidates the cache.

Passes: a `.dockerignore` in the Dockerfile's directory or in a directory above it (the build
context is often the repository root), or `<Dockerfile name>.dockerignore` beside it, which
BuildKit prefers for that Dockerfile. An allow-list keeps new files out by default:

    *
    !go.mod
    !go.sum
    !cmd/

If the Dockerfile is built with a context that holds nothing but the build's inputs, suppress
in the file's leading comment block: `# infra-new:ignore DF006 <reason>`.",
};

pub static DF007: Rule = Rule {
    id: "DF007",
    severity: Severity::Error,
    title: "No secrets in ENV or ARG",
    fix: "Pass secrets at build time with `RUN --mount=type=secret` and at run time from a secret store",
    explain: "\
ENV values are stored in the image configuration and ARG values in its history: `docker history`
or `docker inspect` shows them to anyone who can pull the image, long after the Dockerfile is
fixed. A password, token or key with a literal value in either is leaked.

A finding is an ENV or ARG whose name contains PASSWORD, PASSWD, SECRET, TOKEN, API_KEY, APIKEY,
PRIVATE_KEY, ACCESS_KEY or CREDENTIALS as a part of the name (DB_PASSWORD, GITHUB_TOKEN) and that
is given a literal, non-empty value. Names of files, paths, URLs and names of secrets
(DB_PASSWORD_FILE, TOKEN_URL, SECRET_NAME) pass, as do values that are a path to the secret
(GOOGLE_APPLICATION_CREDENTIALS=/var/secrets/key.json) or a switch such as 1 or true.

Passes: an ARG declared without a value, a value taken from another variable, or a build secret:

    ARG NPM_TOKEN
    RUN --mount=type=secret,id=npm_token NPM_TOKEN=$(cat /run/secrets/npm_token) npm ci",
};

pub static RULES: &[&Rule] = &[&DF001, &DF002, &DF003, &DF004, &DF005, &DF006, &DF007];

/// The instructions a Dockerfile may use.
const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// One logical instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// 1-based line the instruction starts on.
    pub line: usize,
    /// Upper-cased (`run` and `RUN` are the same instruction).
    pub keyword: String,
    /// Everything after the keyword, continuation lines joined, comments inside them left out.
    pub args: String,
    /// For CMD, ENTRYPOINT, RUN and HEALTHCHECK CMD: the command is a JSON array (exec form).
    pub exec: bool,
}

fn error(line: Option<usize>, message: impl Into<String>) -> SyntaxError {
    SyntaxError {
        line,
        message: message.into(),
    }
}

/// A parser directive on a line of the file's head: `# escape=\``, `# syntax=…`, `# check=…`.
fn directive(line: &str) -> Option<(String, &str)> {
    let rest = line.trim_start().strip_prefix('#')?;
    let (name, value) = rest.split_once('=')?;
    let name = name.trim().to_ascii_lowercase();
    matches!(name.as_str(), "syntax" | "escape" | "check").then(|| (name, value.trim()))
}

/// The line without its continuation marker (the escape character at the end, trailing blanks
/// allowed), and whether it continues.
fn continuation(line: &str, escape: char) -> (&str, bool) {
    let trimmed = line.trim_end();
    match trimmed.strip_suffix(escape) {
        Some(content) => (content, true),
        None => (trimmed, false),
    }
}

/// Splits a command line into words the way the shell would, honouring quotes and the escape
/// character. `raw` keeps quotes and escapes in the words; otherwise they are removed.
fn words(text: &str, escape: char, raw: bool) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                if raw {
                    word.push(c);
                }
            }
            Some('"') if c == escape => {
                if raw {
                    word.push(c);
                }
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            Some(_) => word.push(c),
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            None => {
                in_word = true;
                if c == '"' || c == '\'' {
                    quote = Some(c);
                    if raw {
                        word.push(c);
                    }
                } else if c == escape {
                    if raw {
                        word.push(c);
                    }
                    if let Some(next) = chars.next() {
                        word.push(next);
                    }
                } else {
                    word.push(c);
                }
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// A heredoc opened by a word (`<<EOF`, `<<-EOF`, `<<"EOF"`, `2<<EOF`): its terminator and
/// whether leading tabs are stripped from the body's lines. `<<<` (a here-string) is not one.
fn heredoc(word: &str) -> Option<(String, bool)> {
    let rest = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.strip_prefix("<<")?;
    if rest.starts_with('<') {
        return None;
    }
    let (rest, strip_tabs) = match rest.strip_prefix('-') {
        Some(rest) => (rest, true),
        None => (rest, false),
    };
    let name: String = rest
        .trim_matches(|c| c == '"' || c == '\'')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .collect();
    (!name.is_empty()).then_some((name, strip_tabs))
}

/// Strips leading `--flag` words (RUN's `--mount=…`, HEALTHCHECK's `--interval=…`).
fn skip_flags(mut args: &str) -> &str {
    loop {
        args = args.trim_start();
        if !args.starts_with("--") {
            return args;
        }
        args = args
            .find(char::is_whitespace)
            .map_or("", |end| &args[end..]);
    }
}

/// Whether a command is in exec form. A `[` that is not valid JSON is shell form, as Docker
/// reads it (`RUN [ -f x ] && …` is a shell test), except an array that starts like JSON and never
/// closes: that is a broken exec form.
fn exec_form(command: &str, keyword: &str) -> Result<bool, String> {
    let command = command.trim();
    if !command.starts_with('[') {
        return Ok(false);
    }
    if serde_json::from_str::<Vec<String>>(command).is_ok() {
        return Ok(true);
    }
    if command[1..].trim_start().starts_with('"') && !command.contains(']') {
        return Err(format!(
            "{keyword} in exec form: the JSON array is not closed (no `]`)"
        ));
    }
    Ok(false)
}

/// The command of `HEALTHCHECK [--options] CMD …`, or `None` for `HEALTHCHECK NONE`.
fn healthcheck_command(args: &str) -> Option<&str> {
    let rest = skip_flags(args);
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    rest[..end]
        .eq_ignore_ascii_case("CMD")
        .then(|| rest[end..].trim())
}

/// Parses a Dockerfile into its instructions.
pub fn parse(text: &str) -> Result<Vec<Instruction>, SyntaxError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    let mut escape = '\\';
    let mut i = 0;
    while let Some((name, value)) = lines.get(i).and_then(|line| directive(line)) {
        if name == "escape" {
            escape = match value {
                "\\" => '\\',
                "`" => '`',
                _ => {
                    return Err(error(
                        Some(i + 1),
                        format!("invalid escape directive `{value}`: use \\ or `"),
                    ));
                }
            };
        }
        i += 1;
    }

    let mut instructions = Vec::new();
    while i < lines.len() {
        let start = i + 1;
        let first = lines[i].trim_start();
        i += 1;
        if first.is_empty() || first.starts_with('#') {
            continue;
        }
        let (content, mut more) = continuation(first, escape);
        let mut logical = content.to_owned();
        while more && i < lines.len() {
            let next = lines[i];
            i += 1;
            let trimmed = next.trim_start();
            // Comments and empty lines inside a continuation are dropped, as Docker does.
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let (content, again) = continuation(next, escape);
            logical.push_str(content);
            more = again;
        }
        let logical = logical.trim();
        let (word, args) = logical
            .split_once(char::is_whitespace)
            .unwrap_or((logical, ""));
        let keyword = word.to_ascii_uppercase();
        if !KEYWORDS.contains(&keyword.as_str()) {
            return Err(error(Some(start), format!("unknown instruction `{word}`")));
        }
        let args = args.trim().to_owned();

        let command = match keyword.as_str() {
            "CMD" | "ENTRYPOINT" => Some(args.as_str()),
            "RUN" => Some(skip_flags(&args)),
            "HEALTHCHECK" => healthcheck_command(&args),
            _ => None,
        };
        let exec = match command {
            Some(command) => {
                exec_form(command, &keyword).map_err(|message| error(Some(start), message))?
            }
            None => false,
        };

        // Heredoc bodies follow the instruction's last line, one after the other.
        if matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") && !exec {
            for (name, strip_tabs) in words(&args, escape, true)
                .iter()
                .filter_map(|word| heredoc(word))
            {
                let end = lines[i..].iter().position(|line| {
                    let line = if strip_tabs {
                        line.trim_start_matches('\t')
                    } else {
                        line
                    };
                    line.trim_end() == name
                });
                match end {
                    Some(offset) => i += offset + 1,
                    None => {
                        return Err(error(
                            Some(start),
                            format!("heredoc `<<{name}` is never closed: no line `{name}` follows"),
                        ));
                    }
                }
            }
        }

        instructions.push(Instruction {
            line: start,
            keyword,
            args,
            exec,
        });
    }
    Ok(instructions)
}

/// `${NAME}`, `$NAME`, `${NAME:-default}`, `${NAME-default}`, `${NAME:+alt}`, `${NAME+alt}`
/// replaced from `vars` (a declared variable without a value is `None`). `None` when a variable
/// has no value to substitute: the text is only known at build time.
fn substitute(text: &str, vars: &HashMap<String, Option<String>>, escape: char) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == escape && rest[c.len_utf8()..].starts_with('$') {
            out.push('$');
            rest = &rest[c.len_utf8() + 1..];
            continue;
        }
        if c != '$' {
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let after = &rest[1..];
        let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
        if let Some(body) = after.strip_prefix('{') {
            let close = body.find('}')?;
            let expression = &body[..close];
            if expression.contains('$') {
                return None;
            }
            let name_end = expression.find(|c| !is_name(c)).unwrap_or(expression.len());
            let (name, operation) = expression.split_at(name_end);
            let value = vars.get(name).cloned().flatten();
            let replaced = match operation {
                "" => value?,
                _ => {
                    let (colon, operation) = match operation.strip_prefix(':') {
                        Some(operation) => (true, operation),
                        None => (false, operation),
                    };
                    let set = match &value {
                        Some(v) => !colon || !v.is_empty(),
                        // Declared without a value is unset here; undeclared is unknown.
                        None if vars.contains_key(name) => false,
                        None => return None,
                    };
                    if let Some(default) = operation.strip_prefix('-') {
                        if set { value? } else { default.to_owned() }
                    } else if let Some(alternative) = operation.strip_prefix('+') {
                        if set {
                            alternative.to_owned()
                        } else {
                            String::new()
                        }
                    } else {
                        return None;
                    }
                }
            };
            out.push_str(&replaced);
            rest = &body[close + 1..];
        } else {
            let end = after.find(|c| !is_name(c)).unwrap_or(after.len());
            if end == 0 {
                out.push('$');
                rest = after;
                continue;
            }
            out.push_str(&vars.get(&after[..end]).cloned().flatten()?);
            rest = &after[end..];
        }
    }
    Some(out)
}

/// `NAME=value` pairs of an ARG or ENV (quotes removed); `(NAME, None)` for an ARG without a
/// value. The legacy `ENV NAME value with spaces` form gives one pair.
fn assignments(keyword: &str, args: &str, escape: char) -> Vec<(String, Option<String>)> {
    let words = words(args, escape, false);
    if keyword == "ENV" && words.first().is_some_and(|w| !w.contains('=')) {
        // The raw first word is the exact text the name was written as (quotes included).
        let written = self::words(args, escape, true).swap_remove(0);
        let value = args.trim_start().get(written.len()..).unwrap_or("").trim();
        return vec![(
            words[0].clone(),
            Some(value.trim_matches(['"', '\'']).to_owned()),
        )];
    }
    words
        .into_iter()
        .filter(|w| !w.starts_with("--"))
        .map(|w| match w.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (w, None),
        })
        .collect()
}

/// One `FROM` and the instructions after it.
struct Stage<'a> {
    from: &'a Instruction,
    /// The image as written.
    image: String,
    /// The image with ARG defaults substituted; `None` when a variable has no default.
    resolved: Option<String>,
    /// The earlier stage this one builds on (`FROM build`).
    parent: Option<usize>,
    instructions: Vec<&'a Instruction>,
}

impl Stage<'_> {
    fn last(&self, keyword: &str) -> Option<&Instruction> {
        self.instructions
            .iter()
            .rev()
            .find(|i| i.keyword == keyword)
            .copied()
    }
}

/// The tag of an image reference (`node:22` → `22`), if it has one.
fn tag(image: &str) -> Option<&str> {
    let image = image.split('@').next().unwrap_or(image);
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split_once(':').map(|(_, tag)| tag)
}

fn stages<'a>(
    instructions: &'a [Instruction],
    escape: char,
) -> Result<Vec<Stage<'a>>, SyntaxError> {
    let mut globals: HashMap<String, Option<String>> = HashMap::new();
    let mut names: Vec<Option<String>> = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    for instruction in instructions {
        if instruction.keyword == "FROM" {
            let mut words = instruction
                .args
                .split_whitespace()
                .filter(|w| !w.starts_with("--"));
            let Some(image) = words.next() else {
                return Err(error(Some(instruction.line), "FROM names no image"));
            };
            let name = match (words.next(), words.next()) {
                (Some(r#as), Some(name)) if r#as.eq_ignore_ascii_case("AS") => {
                    Some(name.to_ascii_lowercase())
                }
                _ => None,
            };
            let resolved = substitute(image, &globals, escape);
            let parent = resolved.as_ref().and_then(|r| {
                let r = r.to_ascii_lowercase();
                names.iter().rposition(|n| n.as_deref() == Some(r.as_str()))
            });
            names.push(name);
            stages.push(Stage {
                from: instruction,
                image: image.to_owned(),
                resolved,
                parent,
                instructions: Vec::new(),
            });
        } else if let Some(stage) = stages.last_mut() {
            stage.instructions.push(instruction);
        } else if instruction.keyword == "ARG" {
            for (name, value) in assignments("ARG", &instruction.args, escape) {
                globals.insert(name, value);
            }
        } else {
            return Err(error(
                Some(instruction.line),
                format!(
                    "{} before the first FROM (only ARG may come first)",
                    instruction.keyword
                ),
            ));
        }
    }
    if stages.is_empty() {
        return Err(error(None, "no FROM instruction"));
    }
    Ok(stages)
}

/// The escape character a Dockerfile declares (for substitution after parsing).
fn escape_of(text: &str) -> char {
    text.strip_prefix('\u{feff}')
        .unwrap_or(text)
        .lines()
        .map_while(directive)
        .find(|(name, _)| name == "escape")
        .map_or('\\', |(_, value)| if value == "`" { '`' } else { '\\' })
}

/// The stages a stage builds on, itself first.
fn chain<'s, 'a>(stages: &'s [Stage<'a>], index: usize) -> impl Iterator<Item = &'s Stage<'a>> {
    let mut next = Some(index);
    std::iter::from_fn(move || {
        let stage = &stages[next?];
        next = stage.parent;
        Some(stage)
    })
}

/// Whether a USER value names root (`root`, `0`, `root:root`, `0:0`, `root:1000`…).
fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or("").trim();
    name == "0" || name.eq_ignore_ascii_case("root")
}

/// Name parts that mark a secret, as sequences of parts (`API_KEY` is `API` then `KEY`).
const SECRET_PARTS: &[&[&str]] = &[
    &["PASSWORD"],
    &["PASSWORDS"],
    &["PASSWD"],
    &["SECRET"],
    &["SECRETS"],
    &["TOKEN"],
    &["TOKENS"],
    &["API", "KEY"],
    &["APIKEY"],
    &["PRIVATE", "KEY"],
    &["ACCESS", "KEY"],
    &["CREDENTIALS"],
    &["CREDENTIAL"],
];

/// Last name parts that make the variable a reference to a secret, not the secret itself.
const REFERENCE_SUFFIXES: &[&str] = &[
    "FILE", "PATH", "DIR", "URL", "URI", "NAME", "ENDPOINT", "HEADER", "ARN", "REF",
];

fn is_secret_name(name: &str) -> bool {
    let parts: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    if parts
        .last()
        .is_some_and(|last| REFERENCE_SUFFIXES.contains(&last.as_str()))
    {
        return false;
    }
    SECRET_PARTS.iter().any(|sequence| {
        parts
            .windows(sequence.len())
            .any(|window| window.iter().zip(sequence.iter()).all(|(a, b)| a == b))
    })
}

/// A value that is one variable reference (`$TOKEN`, `${TOKEN}`, `${TOKEN:-}`), not a literal.
fn is_reference(value: &str) -> bool {
    let name = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    match value.strip_prefix('$') {
        Some(rest) => match rest.strip_prefix('{') {
            Some(body) => body.ends_with('}') && body[..body.len() - 1].find('}').is_none(),
            None => name(rest),
        },
        None => false,
    }
}

/// Values that cannot be the secret itself: empty, a variable, a path to a file holding it
/// (`GOOGLE_APPLICATION_CREDENTIALS=/var/secrets/key.json`) or a switch (`SECRET_KEY_BASE_DUMMY=1`).
fn is_literal_secret(value: &str) -> bool {
    let value = value.trim();
    let path = ["/", "./", "../", "~/"]
        .iter()
        .any(|p| value.starts_with(p))
        && !value.contains(char::is_whitespace);
    let switch = ["0", "1", "true", "false", "yes", "no", "on", "off"]
        .iter()
        .any(|s| value.eq_ignore_ascii_case(s));
    !(value.is_empty() || is_reference(value) || path || switch)
}

/// A short, one-line quote of a command for messages.
fn quote(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(39).collect::<String>())
    } else {
        text
    }
}

pub fn check(file: &Source, repo: &Repo, out: &mut Findings) -> Result<(), SyntaxError> {
    let instructions = parse(&file.text)?;
    let escape = escape_of(&file.text);
    let stages = stages(&instructions, escape)?;
    let path = file.path.as_str();
    let last = stages.len() - 1;
    let last_stage = &stages[last];
    let final_line = Some(last_stage.from.line);
    let final_image = last_stage.image.as_str();

    if stages.len() == 1 {
        out.add(
            &DF001,
            path,
            final_line,
            format!("FROM {final_image} is the only stage: what builds the image ships in it"),
        );
    }

    // DF002: the user the final image runs as, inherited through `FROM <stage>`.
    let mut user = None;
    let mut nonroot_base = false;
    for stage in chain(&stages, last) {
        if let Some(instruction) = stage.last("USER") {
            user = Some(instruction);
            break;
        }
        if stage.parent.is_none() {
            nonroot_base = stage
                .resolved
                .as_deref()
                .and_then(tag)
                .is_some_and(|t| t.to_ascii_lowercase().contains("nonroot"));
        }
    }
    match user {
        Some(instruction) if is_root(&instruction.args) => out.add(
            &DF002,
            path,
            Some(instruction.line),
            format!(
                "USER {} leaves the final stage (FROM {final_image}) running as root",
                instruction.args
            ),
        ),
        Some(_) => {}
        None if nonroot_base => {}
        None => out.add(
            &DF002,
            path,
            final_line,
            format!("the final stage (FROM {final_image}) sets no USER, so it runs as root"),
        ),
    }

    // DF003: every stage's base image, build stages included.
    for stage in &stages {
        if stage.parent.is_some() {
            continue;
        }
        let Some(image) = stage.resolved.as_deref() else {
            continue;
        };
        if image.eq_ignore_ascii_case("scratch") || image.contains('@') {
            continue;
        }
        let shown = if image == stage.image {
            image.to_owned()
        } else {
            format!("{} (= {image})", stage.image)
        };
        match tag(image) {
            None => out.add(
                &DF003,
                path,
                Some(stage.from.line),
                format!("FROM {shown} has no tag or digest, so it means `latest`"),
            ),
            Some(t) if t.eq_ignore_ascii_case("latest") => out.add(
                &DF003,
                path,
                Some(stage.from.line),
                format!("FROM {shown} follows the moving `latest` tag"),
            ),
            Some(_) => {}
        }
    }

    // DF004: the healthcheck the final image has, inherited through `FROM <stage>`.
    let healthcheck = chain(&stages, last).find_map(|stage| stage.last("HEALTHCHECK"));
    match healthcheck {
        Some(instruction) if healthcheck_command(&instruction.args).is_none() => out.add(
            &DF004,
            path,
            Some(instruction.line),
            "HEALTHCHECK NONE switches the final stage's health check off",
        ),
        Some(_) => {}
        None => out.add(
            &DF004,
            path,
            final_line,
            format!("the final stage (FROM {final_image}) has no HEALTHCHECK"),
        ),
    }

    // DF005: the ENTRYPOINT and CMD the final image has. An ENTRYPOINT resets a CMD inherited
    // from the stage below, as Docker does.
    let entrypoint = chain(&stages, last).find_map(|stage| stage.last("ENTRYPOINT"));
    let mut cmd = None;
    for stage in chain(&stages, last) {
        if let Some(instruction) = stage.last("CMD") {
            cmd = Some(instruction);
            break;
        }
        if stage.last("ENTRYPOINT").is_some() {
            break;
        }
    }
    let exec_entrypoint = entrypoint.is_some_and(|e| e.exec);
    for instruction in [entrypoint, cmd].into_iter().flatten() {
        if instruction.exec {
            continue;
        }
        let what = if instruction.keyword == "CMD" && exec_entrypoint {
            "reaches the ENTRYPOINT as `/bin/sh -c …` arguments"
        } else {
            "runs under /bin/sh -c, which does not pass SIGTERM on"
        };
        out.add(
            &DF005,
            path,
            Some(instruction.line),
            format!(
                "{} `{}` {what}",
                instruction.keyword,
                quote(&instruction.args)
            ),
        );
    }

    // DF006: a .dockerignore for the build context.
    let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
    let mut ancestors = vec![dir];
    let mut current = dir;
    while let Some((parent, _)) = current.rsplit_once('/') {
        ancestors.push(parent);
        current = parent;
    }
    if !dir.is_empty() {
        ancestors.push("");
    }
    let ignored = repo.has(&format!("{path}.dockerignore"))
        || ancestors.iter().any(|d| {
            repo.has(&if d.is_empty() {
                ".dockerignore".to_owned()
            } else {
                format!("{d}/.dockerignore")
            })
        });
    if !ignored {
        let name = path.rsplit('/').next().unwrap_or(path);
        out.add(
            &DF006,
            path,
            None,
            format!(
                "no .dockerignore (or {name}.dockerignore) for this Dockerfile's build context"
            ),
        );
    }

    // DF007: literal secrets in ENV and ARG, in any stage and before the first FROM.
    for instruction in &instructions {
        if !matches!(instruction.keyword.as_str(), "ENV" | "ARG") {
            continue;
        }
        for (name, value) in assignments(&instruction.keyword, &instruction.args, escape) {
            let Some(value) = value else { continue };
            if !is_secret_name(&name) || !is_literal_secret(&value) {
                continue;
            }
            out.add(
                &DF007,
                path,
                Some(instruction.line),
                format!(
                    "{} {name} is given a literal value that ends up in the image",
                    instruction.keyword
                ),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keywords(text: &str) -> Vec<(usize, String)> {
        parse(text)
            .unwrap()
            .into_iter()
            .map(|i| (i.line, i.keyword))
            .collect()
    }

    #[test]
    fn instructions_start_where_they_start() {
        let text = "# syntax=docker/dockerfile:1\n\nfrom alpine:3 AS a\nRUN echo a \\\n  # comment\n\n  && echo b\n  user app\n";
        assert_eq!(
            keywords(text),
            vec![(3, "FROM".into()), (4, "RUN".into()), (8, "USER".into())]
        );
        let run = &parse(text).unwrap()[1];
        assert_eq!(run.args, "echo a   && echo b");
    }

    #[test]
    fn the_escape_directive_changes_the_continuation_character() {
        let text =
            "# escape=`\nFROM mcr.microsoft.com/windows:ltsc2022\nRUN dir `\n  C:\\\nUSER app\n";
        assert_eq!(
            keywords(text),
            vec![(2, "FROM".into()), (3, "RUN".into()), (5, "USER".into())]
        );
        // Not at the top: a comment, not a directive.
        let text = "FROM a:1\n# escape=`\nRUN x `\nUSER y\n";
        assert_eq!(keywords(text).len(), 3);
    }

    #[test]
    fn heredoc_bodies_are_skipped() {
        let text = "FROM a:1\nRUN <<EOF\nset -e\nnot an instruction\nEOF\nCOPY <<-CONF <<'B' /etc/\n\tx\n\tCONF\n# not a comment\nB\nUSER app\nRUN cat <<< \"here-string\"\n";
        assert_eq!(
            keywords(text),
            vec![
                (1, "FROM".into()),
                (2, "RUN".into()),
                (6, "COPY".into()),
                (11, "USER".into()),
                (12, "RUN".into())
            ]
        );
        let error = parse("FROM a:1\nRUN <<EOF\necho\n").unwrap_err();
        assert_eq!(error.line, Some(2));
        assert!(error.message.contains("<<EOF"), "{}", error.message);
    }

    #[test]
    fn exec_form_is_told_from_shell_form() {
        let parsed = parse("FROM a:1\nCMD [\"a\", \"b\"]\nENTRYPOINT a b\nRUN [ -f x ] && y\nRUN --mount=type=cache,target=/x [\"make\"]\nHEALTHCHECK --interval=5s CMD [\"/h\"]\nCMD ['single']\n").unwrap();
        let exec: Vec<bool> = parsed.iter().map(|i| i.exec).collect();
        assert_eq!(exec, vec![false, true, false, false, true, true, false]);
        let error = parse("FROM a:1\nCMD [\"node\",\n  \"x\"\nUSER a\n").unwrap_err();
        assert_eq!(error.line, Some(2));
        assert!(error.message.contains("not closed"), "{}", error.message);
    }

    #[test]
    fn malformed_files_are_errors() {
        assert_eq!(parse("FROM a:1\nRUNN x\n").unwrap_err().line, Some(2));
        let source = |text: &str| Source {
            path: "Dockerfile".into(),
            text: text.into(),
        };
        for text in ["", "# only a comment\n", "ARG A=1\n"] {
            let error = check(&source(text), &Repo::default(), &mut Findings::default());
            assert_eq!(error.unwrap_err().message, "no FROM instruction");
        }
        let error = check(
            &source("RUN x\nFROM a:1\n"),
            &Repo::default(),
            &mut Findings::default(),
        );
        assert_eq!(error.unwrap_err().line, Some(1));
    }

    #[test]
    fn arg_defaults_are_substituted() {
        let mut vars = HashMap::new();
        vars.insert("V".to_owned(), Some("1.2".to_owned()));
        vars.insert("EMPTY".to_owned(), None);
        let s = |t: &str| substitute(t, &vars, '\\');
        assert_eq!(s("node:${V}-slim").as_deref(), Some("node:1.2-slim"));
        assert_eq!(s("node:$V").as_deref(), Some("node:1.2"));
        assert_eq!(s("node:${EMPTY:-20}").as_deref(), Some("node:20"));
        assert_eq!(s("node:${UNKNOWN:-20}"), None);
        assert_eq!(s("node:${EMPTY}"), None);
        assert_eq!(s("node:${V:+x}").as_deref(), Some("node:x"));
        assert_eq!(s("a\\$b").as_deref(), Some("a$b"));
    }

    #[test]
    fn secret_names_are_parts_of_the_name() {
        for name in [
            "DB_PASSWORD",
            "github_token",
            "API_KEY",
            "STRIPE_APIKEY",
            "SSH_PRIVATE_KEY",
            "AWS_SECRET_ACCESS_KEY",
            "GOOGLE_APPLICATION_CREDENTIALS",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "TOKENIZER",
            "KEYCLOAK_URL",
            "DB_PASSWORD_FILE",
            "TOKEN_URL",
            "SECRET_NAME",
            "PRIMARY_KEY",
            "NODE_ENV",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
        let env = assignments("ENV", "\"é_TOKEN\" abc def", '\\');
        assert_eq!(env, vec![("é_TOKEN".into(), Some("abc def".into()))]);
        assert!(is_reference("$TOKEN"));
        assert!(is_reference("${TOKEN}"));
        assert!(!is_reference("hunter2"));
        assert!(!is_reference("${A}${B}x"));
        assert!(is_literal_secret("hunter2"));
        for value in ["", "$X", "${X:-}", "/var/secrets/key.json", "1", "false"] {
            assert!(!is_literal_secret(value), "{value}");
        }
    }
}
