//! The rule catalog: every family's rules, in one list for `--explain`, the SARIF rule table and
//! the validation of ignore comments.

use serde::Serialize;

/// How bad a finding is. Both make `check` exit 1; SARIF and the human output show the level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Breaks a rule the source documents call a must: root containers, unpinned images,
    /// static cloud keys, secrets in files.
    Error,
    /// Weakens a deploy without breaking it outright: a missing HEALTHCHECK, no disruption budget.
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A rule: what `--explain` prints and what every finding points to.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable id, e.g. `DF002`: the family prefix and a number never reused.
    pub id: &'static str,
    pub severity: Severity,
    /// The rule in one line, as a requirement ("Images run as a non-root user").
    pub title: &'static str,
    /// How to fix a finding, in one line.
    pub fix: &'static str,
    /// Why the rule exists and what passes, in a few short paragraphs (plain text, 100 columns).
    pub explain: &'static str,
}

/// Ignore comments are themselves checked: a suppression must name a rule and give a reason.
pub static CHK001: Rule = Rule {
    id: "CHK001",
    severity: Severity::Error,
    title: "Ignore comments name a known rule and give a reason",
    fix: "Write `# infra-new:ignore <RULE-ID> <why this place is an exception>`",
    explain: "\
An inline suppression, `# infra-new:ignore DF004 the platform probes this port instead`, turns
one finding into a documented exception. Without a reason nobody can later tell a decision from
a shortcut, so a comment without one suppresses nothing and is reported itself, as is a comment
naming a rule id that does not exist (a typo would otherwise hide nothing and look like it did).

The comment covers a finding on its own line (a trailing comment) or on the first line after
the block of comment lines it belongs to. For findings about a whole file (no line), put it in
the file's leading comment block.",
};

static OWN: &[&Rule] = &[&CHK001];

/// Every rule, in catalog order: by family, then id.
pub fn all() -> impl Iterator<Item = &'static Rule> {
    [
        super::dockerfile::RULES,
        super::kubernetes::RULES,
        super::workflows::RULES,
        super::compose::RULES,
        super::repo::RULES,
        super::drift::RULES,
        OWN,
    ]
    .into_iter()
    .flatten()
    .copied()
}

/// The rule with this id (case-insensitive).
pub fn find(id: &str) -> Option<&'static Rule> {
    all().find(|rule| rule.id.eq_ignore_ascii_case(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_every_rule_is_documented() {
        let mut seen = std::collections::BTreeSet::new();
        for rule in all() {
            assert!(seen.insert(rule.id), "duplicate rule id {}", rule.id);
            assert!(
                !rule.title.is_empty() && !rule.title.ends_with('.'),
                "{}: title",
                rule.id
            );
            assert!(
                !rule.fix.is_empty() && !rule.fix.contains('\n'),
                "{}: fix is one line",
                rule.id
            );
            assert!(rule.explain.len() > 80, "{}: explain says why", rule.id);
            assert!(
                rule.explain.lines().all(|l| l.chars().count() <= 100),
                "{}: explain fits 100 columns",
                rule.id
            );
        }
        assert!(find("chk001").is_some());
    }
}
