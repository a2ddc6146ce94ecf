//! The closed sets of choices a scaffold is made of, each with the facts templates need.
//!
//! Only values whose templates exist are listed: the CLI never offers a choice that would render a
//! stub. Adding a value means adding its variant here, its facts, and its templates.

use std::fmt;

/// Implemented by every option enum so that parsing, help and error messages share one code path.
pub trait Choice: Sized + Copy + 'static {
    /// The answer key this option is stored under (`language`, `registry`, ...).
    const KEY: &'static str;
    /// Every supported value, in the order the wizard lists them.
    const ALL: &'static [Self];
    /// The identifier used in flags, answers files and templates.
    fn id(self) -> &'static str;
    /// One line shown next to the value in the wizard and in `--help`.
    fn describe(self) -> &'static str;

    fn parse(value: &str) -> Option<Self> {
        let wanted = value.trim().to_ascii_lowercase();
        Self::ALL.iter().copied().find(|c| c.id() == wanted)
    }

    fn ids() -> Vec<&'static str> {
        Self::ALL.iter().map(|c| c.id()).collect()
    }
}

macro_rules! choice {
    ($(#[$meta:meta])* $name:ident, $key:literal, { $($variant:ident => ($id:literal, $desc:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl Choice for $name {
            const KEY: &'static str = $key;
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn id(self) -> &'static str { match self { $(Self::$variant => $id),+ } }
            fn describe(self) -> &'static str { match self { $(Self::$variant => $desc),+ } }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.id()) }
        }
    };
}

choice!(
    /// The service skeleton's language.
    Language, "language", {
        Go => ("go", "Go, standard library only, distroless static image"),
        Node => ("node", "Node.js, no dependencies beyond Node itself, distroless Node.js image"),
        Python => ("python", "Python, standard library only, distroless Python image"),
        Rust => ("rust", "Rust, few crates with a committed Cargo.lock, distroless image"),
        Java => ("java", "Java, JDK only (built with Maven), distroless Java image"),
    }
);

choice!(
    /// Where CI pushes the image.
    Registry, "registry", {
        Ghcr => ("ghcr", "GitHub Container Registry (ghcr.io), pushed with the workflow token"),
    }
);

choice!(
    /// The cloud that hosts the cluster, the secrets and the Terraform state.
    Cloud, "cloud", {
        Aws => ("aws", "Amazon Web Services: EKS, IAM OIDC, Secrets Manager, S3 state"),
    }
);

choice!(
    /// How a new version replaces the old one.
    Rollout, "rollout", {
        Rolling => ("rolling", "Kubernetes RollingUpdate, maxUnavailable 0"),
        BlueGreen => ("blue-green", "Argo Rollouts blue-green: preview Service, analysis before promotion, manual promotion in production"),
        Canary => ("canary", "Argo Rollouts canary: stepped weights with pauses and background analysis"),
    }
);

choice!(
    /// The CI/CD system that runs the pipeline.
    Ci, "ci", {
        Github => ("github", "GitHub Actions"),
    }
);

choice!(
    /// The GitOps engine that syncs the cluster from git.
    Gitops, "gitops", {
        Argocd => ("argocd", "Argo CD: an AppProject and one Application per environment"),
        Flux => ("flux", "Flux: a GitRepository and one Kustomization per environment, in promotion order"),
    }
);

impl Language {
    /// The language's name as people write it, for prose in generated docs.
    pub fn label(self) -> &'static str {
        match self {
            Language::Go => "Go",
            Language::Node => "Node.js",
            Language::Python => "Python",
            Language::Rust => "Rust",
            Language::Java => "Java",
        }
    }

    /// The Dockerfile ARG that pins the toolchain release; CI reads its version from there.
    pub fn toolchain_arg(self) -> &'static str {
        match self {
            Language::Go => "GO_VERSION",
            Language::Node => "NODE_VERSION",
            Language::Python => "PYTHON_VERSION",
            Language::Rust => "RUST_VERSION",
            Language::Java => "JAVA_VERSION",
        }
    }

    /// The image's health check, as an exec-form argument list (the runtime images have no
    /// shell): the Dockerfile's HEALTHCHECK and compose.yaml both run it.
    pub fn healthcheck(self) -> &'static [&'static str] {
        match self {
            Language::Go | Language::Rust => &["/app/server", "healthcheck"],
            Language::Node => &["/nodejs/bin/node", "/app/src/main.js", "healthcheck"],
            Language::Python => &["/usr/bin/python3", "-m", "app.main", "healthcheck"],
            Language::Java => &["/usr/bin/java", "-jar", "/app/app.jar", "healthcheck"],
        }
    }
}

impl Rollout {
    /// The kind of the object that owns the pods, as operators see it in `kubectl get`.
    pub fn workload(self) -> &'static str {
        match self {
            Rollout::Rolling => "Deployment",
            Rollout::BlueGreen | Rollout::Canary => "Rollout",
        }
    }

    /// The controller the strategy needs in the cluster beyond Kubernetes itself, if any.
    pub fn controller(self) -> Option<&'static str> {
        match self {
            Rollout::Rolling => None,
            Rollout::BlueGreen | Rollout::Canary => Some("Argo Rollouts"),
        }
    }

    /// What the deploy job waits for after the sync, as the end of "it waits until …".
    pub fn ci_summary(self) -> &'static str {
        match self {
            Rollout::Rolling => "the rolling update has finished (`kubectl rollout status`)",
            Rollout::BlueGreen => {
                "the Rollout has promoted the digest after its pre-promotion analysis (in production: \
                 until the analysed preview waits for a person to promote it)"
            }
            Rollout::Canary => {
                "the Rollout has taken the digest through every step with its analysis passing"
            }
        }
    }
}

impl Gitops {
    /// The engine's name as people write it, for prose in generated docs and CI comments.
    pub fn label(self) -> &'static str {
        match self {
            Gitops::Argocd => "Argo CD",
            Gitops::Flux => "Flux",
        }
    }

    /// What bounds the wait between a merge to `main` and the engine applying it.
    pub fn sync_interval(self) -> &'static str {
        match self {
            Gitops::Argocd => "Argo CD's polling interval (3 minutes by default)",
            Gitops::Flux => {
                "the next fetch of the GitRepository (its `interval` in `deploy/flux/`)"
            }
        }
    }

    /// Why a change made directly in the cluster needs the engine paused first, and how.
    pub fn self_heal(self) -> &'static str {
        match self {
            Gitops::Argocd => {
                "Argo CD's self-heal reverts any change made directly in the cluster, so pause \
                 automated sync of that one Application first"
            }
            Gitops::Flux => {
                "Flux re-applies Git on every reconciliation and so reverts any change made directly \
                 in the cluster: suspend that environment's Kustomization first"
            }
        }
    }
}

impl Registry {
    /// The image repository (no tag) for a service.
    pub fn image(self, org: &str, name: &str) -> String {
        match self {
            Registry::Ghcr => format!("ghcr.io/{org}/{name}"),
        }
    }
}

impl Ci {
    /// The web address of the repository on the CI's forge.
    pub fn repo_web_url(self, org: &str, name: &str) -> String {
        match self {
            Ci::Github => format!("https://github.com/{org}/{name}"),
        }
    }
}

impl Cloud {
    /// The region used when no answer names one.
    pub fn default_region(self) -> &'static str {
        match self {
            Cloud::Aws => "us-east-1",
        }
    }

    /// Whether `region` has the shape of one of this cloud's region names.
    pub fn is_region(self, region: &str) -> bool {
        match self {
            // e.g. us-east-1, eu-central-2, us-gov-west-1, ap-southeast-4
            Cloud::Aws => {
                let parts: Vec<&str> = region.split('-').collect();
                let (area, rest) = match parts.as_slice() {
                    [area, "gov", rest @ ..] | [area, rest @ ..] => (*area, rest),
                    [] => return false,
                };
                area.len() == 2
                    && area.chars().all(|c| c.is_ascii_lowercase())
                    && rest.len() == 2
                    && !rest[0].is_empty()
                    && rest[0].chars().all(|c| c.is_ascii_lowercase())
                    && !rest[1].is_empty()
                    && rest[1].chars().all(|c| c.is_ascii_digit())
            }
        }
    }

    /// The bucket (or container) that holds the service's Terraform state. Names are global
    /// per cloud, so the organisation is part of it.
    pub fn state_bucket(self, org: &str, name: &str) -> String {
        match self {
            Cloud::Aws => format!("{org}-{name}-tfstate"),
        }
    }

    /// The longest state bucket name the cloud accepts.
    pub fn state_bucket_max(self) -> usize {
        match self {
            Cloud::Aws => 63,
        }
    }

    /// Whether `account` names an account of this cloud (the one that runs the service).
    pub fn is_account(self, account: &str) -> bool {
        match self {
            Cloud::Aws => account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()),
        }
    }

    /// The ARN partition of a region (`aws`, `aws-us-gov`, `aws-cn`), for ARNs written into
    /// manifests; `None` on clouds without ARNs.
    pub fn partition(self, region: &str) -> Option<&'static str> {
        match self {
            Cloud::Aws if region.starts_with("us-gov-") => Some("aws-us-gov"),
            Cloud::Aws if region.starts_with("cn-") => Some("aws-cn"),
            Cloud::Aws => Some("aws"),
        }
    }

    /// What an account looks like on this cloud, for error messages.
    pub fn account_shape(self) -> &'static str {
        match self {
            Cloud::Aws => "an AWS account ID: 12 digits, e.g. 123456789012",
        }
    }

    /// A human hint listing region examples, for error messages.
    pub fn region_examples(self) -> &'static str {
        match self {
            Cloud::Aws => "an AWS region such as us-east-1, eu-west-1 or ap-southeast-2",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_is_case_insensitive_and_rejects_unknown_values() {
        assert_eq!(Language::parse("Go"), Some(Language::Go));
        assert_eq!(Language::parse("cobol"), None);
        assert_eq!(
            Language::ids(),
            vec!["go", "node", "python", "rust", "java"]
        );
        assert_eq!(Registry::ids(), vec!["ghcr"]);
        assert_eq!(Rollout::parse("Blue-Green"), Some(Rollout::BlueGreen));
        assert_eq!(Gitops::ids(), vec!["argocd", "flux"]);
    }

    #[test]
    fn aws_regions() {
        for ok in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-4",
        ] {
            assert!(Cloud::Aws.is_region(ok), "{ok}");
        }
        for bad in [
            "",
            "us-east",
            "US-EAST-1",
            "useast1",
            "us-east-1a",
            "u-east-1",
            "us--1",
        ] {
            assert!(!Cloud::Aws.is_region(bad), "{bad}");
        }
    }

    #[test]
    fn aws_partitions() {
        assert_eq!(Cloud::Aws.partition("eu-west-1"), Some("aws"));
        assert_eq!(Cloud::Aws.partition("us-gov-west-1"), Some("aws-us-gov"));
        assert_eq!(Cloud::Aws.partition("cn-north-1"), Some("aws-cn"));
    }

    #[test]
    fn aws_accounts() {
        assert!(Cloud::Aws.is_account("012345678901"));
        for bad in [
            "",
            "12345678901",
            "1234567890123",
            "12345678901a",
            " 123456789012",
        ] {
            assert!(!Cloud::Aws.is_account(bad), "{bad:?}");
        }
    }
}
