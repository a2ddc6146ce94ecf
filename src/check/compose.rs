//! Compose file rules (CMP…): images pinned to a version, no host-level privileges.
//!
//! Only `services.<name>` is read. Anchors and `<<` merge keys (the usual `x-defaults` pattern)
//! are looked through, so a setting inherited from an extension field is reported at the line
//! that defines it, once.

use std::collections::BTreeSet;

use super::yaml::Node;
use super::{Findings, Rule, Severity, Source};

pub static CMP001: Rule = Rule {
    id: "CMP001",
    severity: Severity::Error,
    title: "Compose services run images pinned to a version",
    fix: "Give the image an exact version tag (or a digest), e.g. `postgres:17.5-alpine`",
    explain: "\
An image reference without a tag means `:latest`, and `latest` is whatever was pushed last. Two
people running `docker compose up` a month apart get different databases, caches or tools, and a
new major version (a changed on-disk format, a removed flag) breaks the stack for everyone at
once, with nothing in the repository showing what changed. A version tag makes the upgrade a
reviewed change; a digest (`@sha256:…`) also guards against a tag being re-pushed.

Passes: `image: postgres:17.5-alpine`, `image: redis:8.2@sha256:<digest>`, and a service with
`build:` (its `image:` names what Compose builds, not what it pulls). `${VAR:-default}` is checked
with its default; a reference that depends on a variable without a default is not checked.

Suppress a deliberate exception with `# infra-new:ignore CMP001 <reason>` above the `image:` line.",
};

pub static CMP002: Rule = Rule {
    id: "CMP002",
    severity: Severity::Error,
    title: "Compose services get no host-level privileges",
    fix: "Remove `privileged: true` and `cap_add: [ALL|SYS_ADMIN]`; add only the capability needed",
    explain: "\
`privileged: true` gives a container every capability, every device and no seccomp or AppArmor
profile: a process in it can mount the host's disks or load kernel modules, so a bug in the
service becomes root on the developer's machine or the CI runner. `cap_add: [ALL]` amounts to
the same, and `SYS_ADMIN` alone covers mounts, namespaces and much of the rest. Local setups
copied into shared environments take these flags with them, and the cluster will refuse them.

Passes: no `privileged`, and `cap_add` naming only narrow capabilities (e.g. `NET_BIND_SERVICE`),
ideally after `cap_drop: [ALL]`.

When a tool really needs it (a nested Docker daemon for tests), suppress it on that line with
`# infra-new:ignore CMP002 <reason>`.",
};

pub static RULES: &[&Rule] = &[&CMP001, &CMP002];

pub fn check(file: &Source, documents: &[Node], out: &mut Findings) {
    let mut seen = BTreeSet::new();
    let mut add = |rule: &'static Rule, line: usize, message: String| {
        if seen.insert((rule.id, line)) {
            out.add(rule, &file.path, Some(line), message);
        }
    };
    for document in documents {
        let Some(services) = document.get("services") else {
            continue;
        };
        for (name, service) in services.entries() {
            if !service.is_map() {
                continue;
            }
            if let Some(image) = service.get("image")
                && service.get("build").is_none()
                && let Some(written) = image.as_str()
                && let Some(reference) = interpolate(written)
                && let Some(problem) = image_problem(&reference)
            {
                add(
                    &CMP001,
                    image.line,
                    format!("service `{name}`: image `{reference}` has {problem}"),
                );
            }
            if let Some(privileged) = service.get("privileged")
                && (privileged.is_true() || privileged.as_str() == Some("true"))
            {
                add(
                    &CMP002,
                    privileged.line,
                    format!("service `{name}` runs privileged (all capabilities and devices)"),
                );
            }
            if let Some(caps) = service.get("cap_add") {
                for cap in caps.items() {
                    let Some(text) = cap.as_str() else { continue };
                    let upper = text.trim().to_ascii_uppercase();
                    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
                    if matches!(bare, "ALL" | "SYS_ADMIN") {
                        add(
                            &CMP002,
                            cap.line,
                            format!("service `{name}` adds capability {text}"),
                        );
                    }
                }
            }
        }
    }
}

/// What leaves an image reference unpinned: `Some("no tag")`, `Some("the `latest` tag")`, or
/// `None` when it names a version tag or a digest. Shared with the CI rules.
pub(super) fn image_problem(reference: &str) -> Option<&'static str> {
    let reference = reference.trim();
    if reference.is_empty() || reference.contains('@') {
        return None;
    }
    // The tag follows the last `:` after the last `/` (a `:` before it is a registry port).
    let name = reference.rsplit('/').next().unwrap_or(reference);
    match name.split_once(':') {
        None | Some((_, "")) => Some("no tag (so `latest`)"),
        Some((_, "latest")) => Some("the `latest` tag"),
        Some(_) => None,
    }
}

/// Compose variable interpolation with the variables unknown: `${VAR:-default}` and
/// `${VAR-default}` take their default, `$$` is a `$`; anything that needs a variable's value
/// (`$VAR`, `${VAR}`, `${VAR:?error}`, `${VAR:+alt}`) makes the result unknown (`None`).
pub(super) fn interpolate(text: &str) -> Option<String> {
    let mut result = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        result.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            result.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = closing_brace(body)?;
            let inner = &body[..end];
            let name_end = inner
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(inner.len());
            let default = match &inner[name_end..] {
                op if op.starts_with(":-") => &op[2..],
                op if op.starts_with('-') => &op[1..],
                _ => return None,
            };
            result.push_str(&interpolate(default)?);
            rest = &body[end + 1..];
        } else if after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            return None;
        } else {
            result.push('$');
            rest = after;
        }
    }
    result.push_str(rest);
    Some(result)
}

/// The index of the `}` closing a `${` whose body starts `body` (nested `${…}` allowed).
fn closing_brace(body: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (index, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(index),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_are_pinned_by_tag_or_digest() {
        for (reference, problem) in [
            ("postgres", Some("no tag (so `latest`)")),
            ("postgres:latest", Some("the `latest` tag")),
            ("localhost:5000/app", Some("no tag (so `latest`)")),
            ("localhost:5000/app:1.2", None),
            ("postgres:17.5", None),
            ("redis@sha256:abc", None),
            ("redis:latest@sha256:abc", None),
            ("", None),
        ] {
            assert_eq!(image_problem(reference), problem, "{reference}");
        }
    }

    #[test]
    fn interpolation_uses_defaults_and_gives_up_on_unknowns() {
        assert_eq!(interpolate("pg:${V:-16}").as_deref(), Some("pg:16"));
        assert_eq!(interpolate("pg:${V-16}").as_deref(), Some("pg:16"));
        assert_eq!(
            interpolate("${R:-ghcr.io/${O:-acme}}/app").as_deref(),
            Some("ghcr.io/acme/app")
        );
        assert_eq!(interpolate("a$$b").as_deref(), Some("a$b"));
        assert_eq!(interpolate("pg:${V}"), None);
        assert_eq!(interpolate("pg:$V"), None);
        assert_eq!(interpolate("pg:${V:?set V}"), None);
        assert_eq!(interpolate("pg:${V"), None);
        assert_eq!(interpolate("plain").as_deref(), Some("plain"));
    }

    #[test]
    fn services_with_build_name_their_image() {
        let docs = crate::check::yaml::parse(
            "x-base: &base\n  privileged: true\nservices:\n  app:\n    build: .\n    image: app\n  db:\n    <<: *base\n    image: postgres\n    cap_add: [NET_ADMIN, CAP_SYS_ADMIN]\n  other:\n    <<: *base\n    image: \"pg:${PG:-latest}\"\n",
        )
        .unwrap();
        let source = Source {
            path: "compose.yaml".into(),
            text: String::new(),
        };
        let mut out = Findings::default();
        check(&source, &docs, &mut out);
        let got: Vec<_> = out.iter().map(|f| (f.rule.id, f.line.unwrap())).collect();
        assert_eq!(
            got,
            [("CMP001", 9), ("CMP002", 2), ("CMP002", 10), ("CMP001", 13)]
        );
    }
}
