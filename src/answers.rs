//! Everything a scaffold is generated from: the answer keys, how partial answers from presets, files,
//! flags and the wizard are layered, and their validation into one `Answers` value.
//!
//! The field table is the single description of each answer: its key, prompt, help line, default
//! and validation. Flags, answers files, the wizard and error messages all read it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Problem};
use crate::names::CloudNames;
use crate::options::{Choice, Ci, Cloud, Gitops, Language, Registry, Rollout, is_guid};
use crate::prompt::Prompter;

/// Where a raw answer came from, named in error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Preset(String),
    File(String),
    Flag,
    Wizard,
    Default,
    /// Read from the repository being adopted (the language from its build manifest).
    Detected(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Preset(name) => write!(f, "preset `{name}`"),
            Origin::File(path) => write!(f, "answers file `{path}`"),
            Origin::Flag => f.write_str("command line"),
            Origin::Wizard => f.write_str("wizard"),
            Origin::Default => f.write_str("default"),
            Origin::Detected(file) => write!(f, "detected from `{file}`"),
        }
    }
}

/// What kind of value a field takes.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// One of a closed set: `(id, description)` pairs.
    Choice(fn() -> Vec<(&'static str, &'static str)>),
    /// Free text with a validator.
    Text,
}

/// One answer: its key and how to ask for it.
#[derive(Debug)]
pub struct Field {
    pub key: &'static str,
    pub prompt: &'static str,
    pub help: &'static str,
    pub kind: Kind,
}

fn choices<C: Choice>() -> Vec<(&'static str, &'static str)> {
    C::ALL.iter().map(|c| (c.id(), c.describe())).collect()
}

/// Every answer, in the order the wizard asks for them.
pub const FIELDS: &[Field] = &[
    Field {
        key: "name",
        prompt: "Service name",
        help: "lowercase letters, digits and '-', starting with a letter, at most 40 characters (a DNS-1123 label and image name)",
        kind: Kind::Text,
    },
    Field {
        key: "language",
        prompt: "Language",
        help: "the service skeleton, its Dockerfile and its CI steps",
        kind: Kind::Choice(choices::<Language>),
    },
    Field {
        key: "cloud",
        prompt: "Cloud",
        help: "hosts the cluster, the secrets and the Terraform state",
        kind: Kind::Choice(choices::<Cloud>),
    },
    Field {
        key: "ci",
        prompt: "CI system",
        help: "runs lint, test, build, scan, sign and deploy",
        kind: Kind::Choice(choices::<Ci>),
    },
    Field {
        key: "registry",
        prompt: "Container registry",
        help: "where CI pushes the image; ecr, gar and acr only with their own cloud (aws, gcp, azure), ghcr only with ci github",
        kind: Kind::Choice(choices::<Registry>),
    },
    Field {
        key: "rollout",
        prompt: "Rollout strategy",
        help: "how a new version replaces the old one",
        kind: Kind::Choice(choices::<Rollout>),
    },
    Field {
        key: "gitops",
        prompt: "GitOps engine",
        help: "syncs each environment from git",
        kind: Kind::Choice(choices::<Gitops>),
    },
    Field {
        key: "org",
        prompt: "Organisation",
        help: "the GitHub organisation or GitLab group (or user) that owns the repository (lowercase), e.g. acme",
        kind: Kind::Text,
    },
    Field {
        key: "team",
        prompt: "Owning team",
        help: "the team that owns and is paged for the service (lowercase DNS label), e.g. payments",
        kind: Kind::Text,
    },
    Field {
        key: "port",
        prompt: "HTTP port",
        help: "the port the service listens on inside the container, 1024 to 65535",
        kind: Kind::Text,
    },
    Field {
        key: "region",
        prompt: "Cloud region",
        help: "where the service's cloud resources and Terraform state live",
        kind: Kind::Text,
    },
    Field {
        key: "account",
        prompt: "Cloud account",
        help: "the account that runs the service: the AWS account ID, the Google Cloud project ID or the Azure subscription ID",
        kind: Kind::Text,
    },
    Field {
        key: "tenant",
        prompt: "Azure tenant ID",
        help: "Azure only: the Microsoft Entra tenant (directory) ID of the subscription, a GUID",
        kind: Kind::Text,
    },
    Field {
        key: "slo_target",
        prompt: "Availability SLO (%)",
        help: "the share of good requests over 30 days, from 95 to 99.999, e.g. 99.9",
        kind: Kind::Text,
    },
];

/// Looks up a field by key.
pub fn field(key: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.key == key)
}

/// The keys an answers file, a preset or `--set` may use.
pub fn keys() -> Vec<&'static str> {
    FIELDS.iter().map(|f| f.key).collect()
}

/// A raw answer: unvalidated text and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw {
    pub value: String,
    pub origin: Origin,
}

/// Answers as given, before validation. Later layers override earlier ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawAnswers {
    values: BTreeMap<&'static str, Raw>,
}

impl RawAnswers {
    /// Sets `key` (which must be a field key) to `value`.
    pub fn set(
        &mut self,
        key: &str,
        value: impl Into<String>,
        origin: Origin,
    ) -> Result<(), Problem> {
        let field = field(key).ok_or_else(|| Problem::unknown_key(key, &origin))?;
        self.values.insert(
            field.key,
            Raw {
                value: value.into(),
                origin,
            },
        );
        Ok(())
    }

    /// Lays `other` over `self`: its values win.
    pub fn overlay(&mut self, other: RawAnswers) {
        self.values.extend(other.values);
    }

    pub fn get(&self, key: &str) -> Option<&Raw> {
        self.values.get(key)
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Parses the flat TOML table of an answers file or preset (or the `[answers]` table of a
    /// `.infra-new.toml`). Every problem is collected, not just the first.
    pub fn from_toml(text: &str, origin: Origin) -> Result<RawAnswers, Vec<Problem>> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            vec![Problem::new(
                "",
                "",
                &origin,
                format!("not valid TOML: {}", e.message()),
            )]
        })?;
        let table = match table.get("answers") {
            Some(toml::Value::Table(inner)) => inner.clone(),
            _ => table,
        };
        let mut raw = RawAnswers::default();
        let mut problems = Vec::new();
        for (key, value) in &table {
            let text = match value {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Table(_) if key == "generator" => continue,
                other => {
                    problems.push(Problem::new(
                        key,
                        &other.to_string(),
                        &origin,
                        "expected a string or a number".to_string(),
                    ));
                    continue;
                }
            };
            if let Err(p) = raw.set(key, text, origin.clone()) {
                problems.push(p);
            }
        }
        if problems.is_empty() {
            Ok(raw)
        } else {
            Err(problems)
        }
    }
}

/// The validated answers a scaffold is rendered from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answers {
    pub name: String,
    pub language: Language,
    pub registry: Registry,
    pub cloud: Cloud,
    pub rollout: Rollout,
    pub ci: Ci,
    pub gitops: Gitops,
    pub org: String,
    pub team: String,
    pub port: u16,
    pub region: String,
    pub account: String,
    /// Azure only: the Entra tenant of the subscription.
    pub tenant: Option<String>,
    pub slo_target: f64,
}

macro_rules! serialize_as_id {
    ($($t:ty),+) => {$(
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.id())
            }
        }
    )+};
}
serialize_as_id!(Language, Registry, Cloud, Rollout, Ci, Gitops);

impl Answers {
    /// The answers as `key = value` pairs, in field order, as the wizard and files spell them.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("name", self.name.clone()),
            ("language", self.language.id().to_string()),
            ("cloud", self.cloud.id().to_string()),
            ("registry", self.registry.id().to_string()),
            ("rollout", self.rollout.id().to_string()),
            ("ci", self.ci.id().to_string()),
            ("gitops", self.gitops.id().to_string()),
            ("org", self.org.clone()),
            ("team", self.team.clone()),
            ("port", self.port.to_string()),
            ("region", self.region.clone()),
            ("account", self.account.clone()),
            ("slo_target", self.slo_target.to_string()),
        ];
        if let Some(tenant) = &self.tenant {
            pairs.insert(pairs.len() - 1, ("tenant", tenant.clone()));
        }
        pairs
    }

    /// The answers as raw values, for re-resolving with changes (upgrade) or round-trip tests.
    pub fn to_raw(&self, origin: Origin) -> RawAnswers {
        let mut raw = RawAnswers::default();
        for (key, value) in self.to_pairs() {
            raw.set(key, value, origin.clone())
                .expect("every pair is a known field");
        }
        raw
    }
}

/// What resolution may use besides the raw answers.
pub struct Resolve<'a> {
    /// The target directory's name, the default service name.
    pub dir_name: Option<String>,
    /// Take the default for every missing answer that has one (`--yes`).
    pub take_defaults: bool,
    /// Asks for what is still missing; `None` when nothing may be asked.
    pub prompter: Option<&'a mut dyn Prompter>,
    /// Problems found while gathering the raw answers (unknown keys, bad types), reported in the
    /// same error as the values' own problems, before anything is asked.
    pub earlier: Vec<Problem>,
}

/// The partially resolved answers, so that defaults and checks can depend on earlier answers.
#[derive(Default)]
struct Resolved {
    values: BTreeMap<&'static str, String>,
}

impl Resolved {
    fn cloud(&self) -> Option<Cloud> {
        self.values.get("cloud").and_then(|v| Cloud::parse(v))
    }

    fn ci(&self) -> Option<Ci> {
        self.values.get("ci").and_then(|v| Ci::parse(v))
    }
}

fn default_for(key: &str, done: &Resolved, ctx: &Resolve<'_>) -> Option<String> {
    match key {
        "name" => ctx
            .dir_name
            .as_deref()
            .filter(|n| check_name(n).is_ok())
            .map(str::to_string),
        "language" => Some(Language::ALL[0].id().into()),
        "registry" => match (done.cloud(), done.ci()) {
            (Some(cloud), Some(ci)) => Some(Registry::fitting(cloud, ci)[0].id().into()),
            _ => None,
        },
        "cloud" => Some(Cloud::ALL[0].id().into()),
        "rollout" => Some(Rollout::ALL[0].id().into()),
        "ci" => Some(Ci::ALL[0].id().into()),
        "gitops" => Some(Gitops::ALL[0].id().into()),
        "org" | "account" | "tenant" => None,
        "team" => Some("platform".into()),
        "port" => Some("8080".into()),
        "region" => done.cloud().map(|c| c.default_region().to_string()),
        "slo_target" => Some("99.9".into()),
        _ => None,
    }
}

/// Checks one value; the error text says what a valid value looks like.
fn check(key: &str, value: &str, done: &Resolved) -> Result<String, String> {
    let value = value.trim();
    let choice = |ids: Vec<&str>, ok: bool| {
        if ok {
            Ok(value.to_ascii_lowercase())
        } else {
            Err(format!("valid values: {}", ids.join(", ")))
        }
    };
    match key {
        "name" => check_name(value).map(|()| value.to_string()),
        "language" => choice(Language::ids(), Language::parse(value).is_some()),
        "registry" => match (Registry::parse(value), done.cloud(), done.ci()) {
            (Some(r), Some(cloud), Some(ci)) if r.fits(cloud, ci) => Ok(r.id().to_string()),
            (Some(r), Some(cloud), Some(ci)) => {
                let why = match (r.native_cloud(), r.native_ci()) {
                    (Some(c), _) if c != cloud => format!(
                        "`{r}` needs cloud `{c}` (the cluster pulls from it with its own cloud identity)"
                    ),
                    (_, Some(c)) => format!(
                        "`{r}` needs ci `{c}` (other CI systems would push with a long-lived token)"
                    ),
                    _ => unreachable!("a registry that does not fit has a native cloud or CI"),
                };
                Err(format!(
                    "{why}; with cloud `{cloud}` and ci `{ci}` the valid values are: {}",
                    ids_of(&Registry::fitting(cloud, ci))
                ))
            }
            (_, Some(cloud), Some(ci)) => Err(format!(
                "valid values: {} (with cloud `{cloud}` and ci `{ci}`)",
                ids_of(&Registry::fitting(cloud, ci))
            )),
            _ => choice(Registry::ids(), false),
        },
        "cloud" => choice(Cloud::ids(), Cloud::parse(value).is_some()),
        "rollout" => choice(Rollout::ids(), Rollout::parse(value).is_some()),
        "ci" => choice(Ci::ids(), Ci::parse(value).is_some()),
        "gitops" => choice(Gitops::ids(), Gitops::parse(value).is_some()),
        "org" => check_org(value).map(|()| value.to_string()),
        "team" => check_label(value, 63).map(|()| value.to_string()),
        "port" => match value.parse::<u16>() {
            Ok(p) if p >= 1024 => Ok(p.to_string()),
            _ => {
                Err("a whole number from 1024 to 65535 (the image runs as a non-root user)".into())
            }
        },
        "region" => match done.cloud() {
            Some(cloud) if cloud.is_region(value) => Ok(value.to_string()),
            Some(cloud) => Err(cloud.region_examples().to_string()),
            None => Err("set `cloud` first".into()),
        },
        "account" => match done.cloud() {
            Some(cloud) if cloud.is_account(value) => Ok(value.to_string()),
            Some(cloud) => Err(cloud.account_shape().to_string()),
            None => Err("set `cloud` first".into()),
        },
        "tenant" if is_guid(value) => Ok(value.to_string()),
        "tenant" => Err("a Microsoft Entra tenant ID: a GUID in lowercase, e.g. 00000000-0000-0000-0000-000000000000".into()),
        "slo_target" => check_slo(value).map(|v| v.to_string()),
        _ => Err(format!("unknown key; valid keys: {}", keys().join(", "))),
    }
}

fn ids_of(registries: &[Registry]) -> String {
    registries
        .iter()
        .map(|r| r.id())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the answers `key` is checked against are known: the registry needs the cloud and the
/// CI system, the region, account and tenant the cloud.
fn ready(key: &str, done: &Resolved) -> bool {
    match key {
        "registry" => done.cloud().is_some() && done.ci().is_some(),
        "region" | "account" | "tenant" => done.cloud().is_some(),
        _ => true,
    }
}

/// Whether the answer `key` belongs to a scaffold with these earlier answers (the tenant only
/// to Azure). Unknown until the cloud is resolved.
fn applies(key: &str, done: &Resolved) -> bool {
    match key {
        "tenant" => done.cloud() == Some(Cloud::Azure),
        _ => true,
    }
}

/// A service name: a DNS-1035 label (Kubernetes Service names need a leading letter) that is also a
/// valid image repository component, short enough for `<name>-production` and cloud role names.
pub fn check_name(value: &str) -> Result<(), String> {
    check_label(value, 40)?;
    if !value.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("must start with a lowercase letter".into());
    }
    Ok(())
}

fn check_label(value: &str, max: usize) -> Result<(), String> {
    let shape = format!(
        "lowercase letters, digits and '-', not starting or ending with '-', at most {max} characters"
    );
    let ok = !value.is_empty()
        && value.len() <= max
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if ok { Ok(()) } else { Err(shape) }
}

fn check_org(value: &str) -> Result<(), String> {
    let ok = !value.is_empty()
        && value.len() <= 39
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-')
        && !value.contains("--");
    if ok {
        Ok(())
    } else {
        Err("a GitHub organisation or user in lowercase: letters, digits and single '-', at most 39 characters".into())
    }
}

fn check_slo(value: &str) -> Result<f64, String> {
    // Below 95 the error budget passes 5% and a fast burn (14.4x the budget over an hour) needs
    // most requests to fail: the page alert would fire late or never.
    let shape = "a percentage from 95 to 99.999 with at most three decimals, e.g. 99.9";
    let decimals = value.split_once('.').map_or(0, |(_, d)| d.len());
    match value.parse::<f64>() {
        Ok(v) if (95.0..=99.999).contains(&v) && decimals <= 3 && v.is_finite() => Ok(v),
        _ => Err(shape.into()),
    }
}

/// Turns layered raw answers into validated `Answers`: every given value is checked first (all
/// problems reported at once), then missing ones are defaulted (`take_defaults`) or asked for.
pub fn resolve(raw: &RawAnswers, ctx: &mut Resolve<'_>) -> Result<Answers, Error> {
    let mut done = Resolved::default();
    let mut problems = std::mem::take(&mut ctx.earlier);
    let mut failed = Vec::new();

    // Given values first, in field order, so that a region is checked against a given cloud. A
    // region given without a cloud (or a registry without the CI system) waits for it below.
    for field in FIELDS {
        let Some(given) = raw.get(field.key) else {
            continue;
        };
        if !ready(field.key, &done) || !applies(field.key, &done) {
            continue;
        }
        match check(field.key, &given.value, &done) {
            Ok(value) => {
                done.values.insert(field.key, value);
            }
            Err(hint) => {
                problems.push(Problem::new(field.key, &given.value, &given.origin, hint));
                failed.push(field.key);
            }
        }
    }
    // Never ask questions when the answers already fail; without a prompter, go on so that the
    // error also lists what is missing.
    if !problems.is_empty() && ctx.prompter.is_some() {
        return Err(Error::InvalidAnswers(problems));
    }

    for field in FIELDS {
        if done.values.contains_key(field.key) || failed.contains(&field.key) {
            continue;
        }
        if !applies(field.key, &done) {
            // Without a cloud (itself reported missing or invalid) there is nothing to say yet.
            if let (Some(given), Some(cloud)) = (raw.get(field.key), done.cloud()) {
                problems.push(Problem::new(
                    field.key,
                    &given.value,
                    &given.origin,
                    format!("only used with cloud `azure`, not `{cloud}`: remove it"),
                ));
            }
            continue;
        }
        if let Some(given) = raw.get(field.key) {
            // Deferred until its dependency was resolved (region after cloud, registry after ci).
            match check(field.key, &given.value, &done) {
                Ok(value) => {
                    done.values.insert(field.key, value);
                }
                Err(hint) => {
                    problems.push(Problem::new(field.key, &given.value, &given.origin, hint))
                }
            }
            continue;
        }
        let default = default_for(field.key, &done, ctx);
        let value = match (&default, ctx.take_defaults, ctx.prompter.as_deref_mut()) {
            (Some(d), true, _) => d.clone(),
            (_, _, Some(prompter)) => {
                let validate = |v: &str| check(field.key, v, &done).map(|_| ());
                prompter.ask(field, default.as_deref(), &validate)?
            }
            (_, _, None) => {
                let hint = match check(field.key, "", &done) {
                    Err(h) if matches!(field.kind, Kind::Choice(_)) => h,
                    _ => field.help.to_string(),
                };
                problems.push(Problem::missing(field.key, hint));
                continue;
            }
        };
        match check(field.key, &value, &done) {
            Ok(v) => {
                done.values.insert(field.key, v);
            }
            Err(hint) => problems.push(Problem::new(field.key, &value, &Origin::Wizard, hint)),
        }
    }
    if !problems.is_empty() {
        return Err(Error::InvalidAnswers(problems));
    }

    let get = |k: &str| done.values[k].clone();
    let answers = Answers {
        name: get("name"),
        language: Language::parse(&get("language")).expect("checked"),
        registry: Registry::parse(&get("registry")).expect("checked"),
        cloud: Cloud::parse(&get("cloud")).expect("checked"),
        rollout: Rollout::parse(&get("rollout")).expect("checked"),
        ci: Ci::parse(&get("ci")).expect("checked"),
        gitops: Gitops::parse(&get("gitops")).expect("checked"),
        org: get("org"),
        team: get("team"),
        port: get("port").parse().expect("checked"),
        region: get("region"),
        account: get("account"),
        tenant: done.values.get("tenant").cloned(),
        slo_target: get("slo_target").parse().expect("checked"),
    };
    let combined = check_combined(&answers);
    if combined.is_empty() {
        Ok(answers)
    } else {
        Err(Error::InvalidAnswers(combined))
    }
}

/// Checks that span several answers: names derived from more than one of them.
fn check_combined(a: &Answers) -> Vec<Problem> {
    let mut problems = Vec::new();
    let bucket = CloudNames::new(a.cloud, a.ci, &a.org, &a.name).state;
    if let Some(max) = a.cloud.state_bucket_max()
        && bucket.len() > max
    {
        problems.push(Problem::combined(
            "org",
            &a.org,
            format!(
                "with name `{}` the Terraform state bucket would be `{bucket}` ({} characters; {} allows {max}): shorten `org` or `name` by {}",
                a.name,
                bucket.len(),
                a.cloud,
                bucket.len() - max
            ),
        ));
    }
    // Cloud Storage reserves bucket names that look like Google's.
    if a.cloud == Cloud::Gcp && (bucket.starts_with("goog") || bucket.contains("google")) {
        problems.push(Problem::combined(
            "org",
            &a.org,
            format!(
                "the Terraform state bucket `{bucket}` would start with `goog` or contain `google`, which Cloud Storage does not allow: choose another `org` or `name`"
            ),
        ));
    }
    problems
}

/// The default service name for a target directory.
pub fn dir_name(target: &Path) -> Option<String> {
    let absolute = std::path::absolute(target).ok()?;
    absolute
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::Scripted;

    fn raw(pairs: &[(&str, &str)]) -> RawAnswers {
        let mut r = RawAnswers::default();
        for (k, v) in pairs {
            r.set(k, *v, Origin::Flag).unwrap();
        }
        r
    }

    fn resolve_with(r: &RawAnswers, take_defaults: bool) -> Result<Answers, Error> {
        resolve(
            r,
            &mut Resolve {
                dir_name: Some("checkout".into()),
                take_defaults,
                prompter: None,
                earlier: Vec::new(),
            },
        )
    }

    /// Resolves `r` with nothing defaulted: the wizard (scripted) answers what is missing.
    fn resolve_asking(r: &RawAnswers, prompter: &mut Scripted) -> Answers {
        resolve(
            r,
            &mut Resolve {
                dir_name: None,
                take_defaults: false,
                prompter: Some(prompter),
                earlier: Vec::new(),
            },
        )
        .unwrap()
    }

    #[test]
    fn defaults_fill_everything_but_org_and_account() {
        let err = resolve_with(&RawAnswers::default(), true).unwrap_err();
        let Error::InvalidAnswers(problems) = err else {
            panic!()
        };
        assert_eq!(
            problems.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(),
            vec!["org", "account"]
        );

        let a = resolve_with(&raw(&[("org", "acme"), ("account", "111122223333")]), true).unwrap();
        assert_eq!(a.name, "checkout");
        assert_eq!(a.region, "us-east-1");
        assert_eq!(a.port, 8080);
        assert_eq!(a.slo_target, 99.9);
    }

    #[test]
    fn every_invalid_value_is_reported_at_once() {
        let r = raw(&[
            ("name", "Bad_Name"),
            ("language", "cobol"),
            ("port", "80"),
            ("slo_target", "100"),
        ]);
        let Error::InvalidAnswers(problems) = resolve_with(&r, true).unwrap_err() else {
            panic!()
        };
        let keys: Vec<_> = problems.iter().map(|p| p.key.as_str()).collect();
        // Without a prompter, the missing `org` and `account` are listed in the same error.
        assert_eq!(
            keys,
            vec!["name", "language", "port", "slo_target", "org", "account"]
        );
        assert!(problems[1].hint.contains("valid values: go"));
    }

    #[test]
    fn without_defaults_or_prompter_missing_answers_are_problems() {
        let Error::InvalidAnswers(problems) =
            resolve_with(&raw(&[("name", "x1")]), false).unwrap_err()
        else {
            panic!()
        };
        // All but the given name and the tenant, which only Azure needs.
        assert_eq!(problems.len(), FIELDS.len() - 2);
        assert!(problems.iter().all(|p| p.value.is_none()));
    }

    #[test]
    fn scripted_wizard_fills_in_missing_answers() {
        let mut prompter = Scripted::new(&[
            "checkout",
            "acme",
            "payments",
            "9090",
            "eu-west-1",
            "111122223333",
            "99.95",
        ]);
        let r = raw(&[
            ("language", "go"),
            ("registry", "ghcr"),
            ("cloud", "aws"),
            ("rollout", "rolling"),
            ("ci", "github"),
            ("gitops", "argocd"),
        ]);
        let a = resolve_asking(&r, &mut prompter);
        assert_eq!(
            prompter.asked(),
            vec![
                "name",
                "org",
                "team",
                "port",
                "region",
                "account",
                "slo_target"
            ]
        );
        assert_eq!(
            (a.port, a.region.as_str(), a.slo_target),
            (9090, "eu-west-1", 99.95)
        );
    }

    #[test]
    fn region_is_checked_against_the_cloud() {
        let r = raw(&[("org", "acme"), ("region", "europe-west1")]);
        let Error::InvalidAnswers(problems) = resolve_with(&r, true).unwrap_err() else {
            panic!()
        };
        assert_eq!(problems[0].key, "region");
        assert!(problems[0].hint.contains("AWS region"));
    }

    #[test]
    fn account_is_checked_against_the_cloud() {
        let r = raw(&[("org", "acme"), ("account", "my-project")]);
        let Error::InvalidAnswers(problems) = resolve_with(&r, true).unwrap_err() else {
            panic!()
        };
        assert_eq!(problems[0].key, "account");
        assert!(
            problems[0].hint.contains("12 digits"),
            "{}",
            problems[0].hint
        );
    }

    #[test]
    fn org_and_name_together_must_fit_the_state_bucket() {
        let long = "a".repeat(39);
        let r = raw(&[
            ("org", long.as_str()),
            ("account", "111122223333"),
            ("name", "a-very-long-service-name-x"),
        ]);
        let Error::InvalidAnswers(problems) = resolve_with(&r, true).unwrap_err() else {
            panic!()
        };
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].hint.contains("state bucket") && problems[0].hint.contains("by 11"),
            "{}",
            problems[0].hint
        );
        let r = raw(&[
            ("org", "acme"),
            ("account", "111122223333"),
            ("name", "a-very-long-service-name-x"),
        ]);
        assert!(resolve_with(&r, true).is_ok());
    }

    #[test]
    fn names() {
        for ok in ["a", "checkout", "order-service-2", &"a".repeat(40)] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1svc",
            "-a",
            "a-",
            "A",
            "a_b",
            "a.b",
            &"a".repeat(41),
            "é",
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn answers_files_report_unknown_keys_and_bad_types() {
        let text = "name = \"checkout\"\nlangauge = \"go\"\nport = [1]\n";
        let problems = RawAnswers::from_toml(text, Origin::File("a.toml".into())).unwrap_err();
        assert_eq!(problems.len(), 2);
        assert!(
            problems
                .iter()
                .any(|p| p.key == "langauge" && p.hint.contains("valid keys"))
        );
        assert!(problems.iter().any(|p| p.key == "port"));
    }

    #[test]
    fn answers_round_trip_through_raw() {
        let a = resolve_with(
            &raw(&[
                ("org", "acme"),
                ("account", "111122223333"),
                ("slo_target", "99.95"),
            ]),
            true,
        )
        .unwrap();
        let again = resolve_with(&a.to_raw(Origin::Default), false).unwrap();
        assert_eq!(a, again);
    }

    #[test]
    fn the_wizard_asks_for_the_tenant_on_azure_only_and_checks_the_registry_against_the_cloud() {
        let mut prompter = Scripted::new(&[
            "checkout",
            "acme",
            "payments",
            "8080",
            "westeurope",
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
            "99.9",
        ]);
        let r = raw(&[
            ("language", "go"),
            ("cloud", "azure"),
            ("registry", "acr"),
            ("rollout", "rolling"),
            ("ci", "github"),
            ("gitops", "flux"),
        ]);
        let a = resolve_asking(&r, &mut prompter);
        assert!(prompter.asked().contains(&"tenant"));
        assert_eq!(
            a.tenant.as_deref(),
            Some("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")
        );
        assert_eq!(a.registry, Registry::Acr);
        // The tenant is recorded, and reads back.
        assert!(a.to_pairs().iter().any(|(k, _)| *k == "tenant"));
        assert_eq!(resolve_with(&a.to_raw(Origin::Default), false).unwrap(), a);

        // A registry given before the cloud is checked once the cloud is known.
        let r = raw(&[
            ("registry", "gar"),
            ("cloud", "aws"),
            ("org", "acme"),
            ("account", "111122223333"),
        ]);
        let Error::InvalidAnswers(problems) = resolve_with(&r, true).unwrap_err() else {
            panic!()
        };
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].key, "registry");
        assert!(
            problems[0].hint.contains("ghcr, ecr, dockerhub"),
            "{}",
            problems[0].hint
        );
    }

    #[test]
    fn gcp_state_buckets_may_not_look_like_google() {
        let r = raw(&[
            ("cloud", "gcp"),
            ("org", "googlers"),
            ("account", "acme-checkout"),
        ]);
        let Error::InvalidAnswers(problems) = resolve_with(&r, true).unwrap_err() else {
            panic!()
        };
        assert!(problems[0].hint.contains("goog"), "{}", problems[0].hint);
    }
}
