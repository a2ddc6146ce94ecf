//! The closed sets of choices a scaffold is made of, each with the facts templates need.
//!
//! Only values whose templates exist are listed: the CLI never offers a choice that would render a
//! stub. Adding a value means adding its variant here, its facts, and its templates.

use std::fmt;

use crate::names::CloudNames;

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
        Ghcr => ("ghcr", "GitHub Container Registry (ghcr.io), pushed with the workflow token; any cloud, ci github"),
        Ecr => ("ecr", "Amazon ECR, created by Terraform, pushed through OIDC; cloud aws"),
        Gar => ("gar", "Google Artifact Registry, created by Terraform, pushed through OIDC; cloud gcp"),
        Acr => ("acr", "Azure Container Registry, created by Terraform, pushed through OIDC; cloud azure"),
        Dockerhub => ("dockerhub", "Docker Hub (docker.io), pushed with an access token kept in CI secrets; any cloud"),
    }
);

choice!(
    /// The cloud that hosts the cluster, the secrets and the Terraform state.
    Cloud, "cloud", {
        Aws => ("aws", "Amazon Web Services: EKS, IAM OIDC, Secrets Manager, S3 state"),
        Gcp => ("gcp", "Google Cloud: GKE, Workload Identity Federation, Secret Manager, GCS state"),
        Azure => ("azure", "Microsoft Azure: AKS, Entra workload identity, Key Vault, Blob state"),
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
        Github => ("github", "GitHub Actions: workflows in .github/workflows"),
        Gitlab => ("gitlab", "GitLab CI/CD: .gitlab-ci.yml and .gitlab/ci"),
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
    /// The cloud whose own registry this is: the cluster pulls from it with its node identity, so
    /// it is offered with that cloud only. `None` for the registries that suit every cloud.
    pub fn native_cloud(self) -> Option<Cloud> {
        match self {
            Registry::Ghcr | Registry::Dockerhub => None,
            Registry::Ecr => Some(Cloud::Aws),
            Registry::Gar => Some(Cloud::Gcp),
            Registry::Acr => Some(Cloud::Azure),
        }
    }

    /// The CI system that can push here without a long-lived key: GHCR takes the GitHub Actions
    /// workflow token; from GitLab it would need a personal access token. `None`: any CI.
    pub fn native_ci(self) -> Option<Ci> {
        match self {
            Registry::Ghcr => Some(Ci::Github),
            _ => None,
        }
    }

    /// Whether CI can push to this registry, and `cloud`'s cluster pull from it, without static
    /// keys (Docker Hub's access token is the one exception, kept in CI secrets).
    pub fn fits(self, cloud: Cloud, ci: Ci) -> bool {
        self.native_cloud().is_none_or(|c| c == cloud) && self.native_ci().is_none_or(|c| c == ci)
    }

    /// The registries that fit `cloud` and `ci`, in wizard order.
    pub fn fitting(cloud: Cloud, ci: Ci) -> Vec<Registry> {
        Registry::ALL
            .iter()
            .copied()
            .filter(|r| r.fits(cloud, ci))
            .collect()
    }

    /// The registry's name as people write it, for prose.
    pub fn label(self) -> &'static str {
        match self {
            Registry::Ghcr => "GitHub Container Registry",
            Registry::Ecr => "Amazon ECR",
            Registry::Gar => "Artifact Registry",
            Registry::Acr => "Azure Container Registry",
            Registry::Dockerhub => "Docker Hub",
        }
    }

    /// The registry host CI logs in to.
    pub fn host(self, names: &CloudNames, account: &str, region: &str) -> String {
        match self {
            Registry::Ghcr => "ghcr.io".into(),
            Registry::Dockerhub => "docker.io".into(),
            Registry::Ecr => {
                let suffix = if region.starts_with("cn-") { ".cn" } else { "" };
                format!("{account}.dkr.ecr.{region}.amazonaws.com{suffix}")
            }
            Registry::Gar => format!("{region}-docker.pkg.dev"),
            Registry::Acr => format!("{}.azurecr.io", names.registry),
        }
    }

    /// The image repository (no tag) for a service.
    pub fn image(
        self,
        names: &CloudNames,
        org: &str,
        name: &str,
        account: &str,
        region: &str,
    ) -> String {
        let host = self.host(names, account, region);
        match self {
            Registry::Ghcr | Registry::Dockerhub => format!("{host}/{org}/{name}"),
            Registry::Ecr | Registry::Acr => format!("{host}/{name}"),
            // <location>-docker.pkg.dev/<project>/<repository>/<image>
            Registry::Gar => format!("{host}/{account}/{}/{name}", names.registry),
        }
    }
}

impl Ci {
    /// The web address of the repository on the CI's forge.
    pub fn repo_web_url(self, org: &str, name: &str) -> String {
        match self {
            Ci::Github => format!("https://github.com/{org}/{name}"),
            Ci::Gitlab => format!("https://gitlab.com/{org}/{name}"),
        }
    }
}

impl Cloud {
    /// The cloud's name as people write it, for prose.
    pub fn label(self) -> &'static str {
        match self {
            Cloud::Aws => "AWS",
            Cloud::Gcp => "Google Cloud",
            Cloud::Azure => "Azure",
        }
    }

    /// The region used when no answer names one.
    pub fn default_region(self) -> &'static str {
        match self {
            Cloud::Aws => "us-east-1",
            Cloud::Gcp => "us-central1",
            Cloud::Azure => "eastus",
        }
    }

    /// Whether `region` has the shape of one of this cloud's region names.
    pub fn is_region(self, region: &str) -> bool {
        let lower = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase());
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        match self {
            // e.g. us-east-1, eu-central-2, us-gov-west-1, ap-southeast-4
            Cloud::Aws => {
                let parts: Vec<&str> = region.split('-').collect();
                let (area, rest) = match parts.as_slice() {
                    [area, "gov", rest @ ..] | [area, rest @ ..] => (*area, rest),
                    [] => return false,
                };
                area.len() == 2
                    && lower(area)
                    && rest.len() == 2
                    && lower(rest[0])
                    && digits(rest[1])
            }
            // e.g. us-central1, europe-west4, northamerica-northeast2
            Cloud::Gcp => match region.split_once('-') {
                Some((area, place)) => {
                    let split = place
                        .find(|c: char| c.is_ascii_digit())
                        .unwrap_or(place.len());
                    lower(area) && lower(&place[..split]) && digits(&place[split..])
                }
                None => false,
            },
            // e.g. eastus, westeurope, swedencentral, eastus2
            Cloud::Azure => {
                region.len() <= 30
                    && region.starts_with(|c: char| c.is_ascii_lowercase())
                    && region
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            }
        }
    }

    /// The longest state bucket name the cloud accepts, where the name is built from the answers
    /// as they are (Azure's storage account name is shortened by a fixed rule instead).
    pub fn state_bucket_max(self) -> Option<usize> {
        match self {
            Cloud::Aws | Cloud::Gcp => Some(63),
            Cloud::Azure => None,
        }
    }

    /// Whether `account` names an account of this cloud (the one that runs the service).
    pub fn is_account(self, account: &str) -> bool {
        match self {
            Cloud::Aws => account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()),
            // Project IDs: 6-30 lowercase letters, digits and '-', starting with a letter and
            // not ending with '-'.
            Cloud::Gcp => {
                (6..=30).contains(&account.len())
                    && account.starts_with(|c: char| c.is_ascii_lowercase())
                    && !account.ends_with('-')
                    && account
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            }
            Cloud::Azure => is_guid(account),
        }
    }

    /// The ARN partition of a region (`aws`, `aws-us-gov`, `aws-cn`), for ARNs written into
    /// manifests; `None` on clouds without ARNs.
    pub fn partition(self, region: &str) -> Option<&'static str> {
        match self {
            Cloud::Aws if region.starts_with("us-gov-") => Some("aws-us-gov"),
            Cloud::Aws if region.starts_with("cn-") => Some("aws-cn"),
            Cloud::Aws => Some("aws"),
            Cloud::Gcp | Cloud::Azure => None,
        }
    }

    /// What an account looks like on this cloud, for error messages.
    pub fn account_shape(self) -> &'static str {
        match self {
            Cloud::Aws => "an AWS account ID: 12 digits, e.g. 123456789012",
            Cloud::Gcp => {
                "a Google Cloud project ID (not its number): 6-30 lowercase letters, digits and '-',                  starting with a letter, e.g. acme-checkout-prod"
            }
            Cloud::Azure => {
                "an Azure subscription ID: a GUID in lowercase, e.g. 00000000-0000-0000-0000-000000000000"
            }
        }
    }

    /// A human hint listing region examples, for error messages.
    pub fn region_examples(self) -> &'static str {
        match self {
            Cloud::Aws => "an AWS region such as us-east-1, eu-west-1 or ap-southeast-2",
            Cloud::Gcp => {
                "a Google Cloud region such as us-central1, europe-west4 or asia-northeast1"
            }
            Cloud::Azure => "an Azure region name such as eastus, westeurope or swedencentral",
        }
    }
}

/// A GUID in its lowercase text form (Azure subscription and tenant IDs).
pub fn is_guid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| {
            g.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
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
        assert_eq!(
            Registry::ids(),
            vec!["ghcr", "ecr", "gar", "acr", "dockerhub"]
        );
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

    #[test]
    fn gcp_and_azure_regions_and_accounts() {
        for ok in ["us-central1", "europe-west4", "northamerica-northeast2"] {
            assert!(Cloud::Gcp.is_region(ok), "{ok}");
        }
        for bad in [
            "us-central",
            "us-east-1",
            "uscentral1",
            "US-central1",
            "us-central1-a",
        ] {
            assert!(!Cloud::Gcp.is_region(bad), "{bad}");
        }
        for ok in ["eastus", "westeurope", "eastus2"] {
            assert!(Cloud::Azure.is_region(ok), "{ok}");
        }
        for bad in ["east-us", "EastUS", "2east", ""] {
            assert!(!Cloud::Azure.is_region(bad), "{bad}");
        }
        assert!(Cloud::Gcp.is_account("acme-checkout-prod"));
        for bad in [
            "acme",
            "Acme-prod",
            "1acme-prod",
            "acme-prod-",
            "acme_prod1",
        ] {
            assert!(!Cloud::Gcp.is_account(bad), "{bad}");
        }
        assert!(Cloud::Azure.is_account("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"));
        for bad in [
            "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0",
            "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "x",
        ] {
            assert!(!Cloud::Azure.is_account(bad), "{bad}");
        }
    }

    #[test]
    fn native_registries_fit_only_their_cloud_and_ghcr_only_github() {
        assert_eq!(
            Registry::fitting(Cloud::Gcp, Ci::Github),
            vec![Registry::Ghcr, Registry::Gar, Registry::Dockerhub]
        );
        assert_eq!(
            Registry::fitting(Cloud::Gcp, Ci::Gitlab),
            vec![Registry::Gar, Registry::Dockerhub]
        );
        assert!(
            Registry::Ecr.fits(Cloud::Aws, Ci::Gitlab)
                && !Registry::Ecr.fits(Cloud::Azure, Ci::Github)
        );
        for cloud in Cloud::ALL {
            assert!(Registry::Ghcr.fits(*cloud, Ci::Github));
            assert!(!Registry::Ghcr.fits(*cloud, Ci::Gitlab));
            assert!(
                Ci::ALL
                    .iter()
                    .all(|ci| Registry::Dockerhub.fits(*cloud, *ci))
            );
        }
    }

    #[test]
    fn images_per_registry() {
        let image = |r: Registry, c: Cloud, account: &str, region: &str| {
            r.image(
                &CloudNames::new(c, Ci::Github, "acme", "checkout"),
                "acme",
                "checkout",
                account,
                region,
            )
        };
        assert_eq!(
            image(Registry::Ghcr, Cloud::Gcp, "p-123456", "us-central1"),
            "ghcr.io/acme/checkout"
        );
        assert_eq!(
            image(Registry::Dockerhub, Cloud::Aws, "111122223333", "us-east-1"),
            "docker.io/acme/checkout"
        );
        assert_eq!(
            image(Registry::Ecr, Cloud::Aws, "111122223333", "eu-west-1"),
            "111122223333.dkr.ecr.eu-west-1.amazonaws.com/checkout"
        );
        assert_eq!(
            image(Registry::Ecr, Cloud::Aws, "111122223333", "cn-north-1"),
            "111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/checkout"
        );
        assert_eq!(
            image(Registry::Gar, Cloud::Gcp, "acme-prod", "europe-west4"),
            "europe-west4-docker.pkg.dev/acme-prod/checkout/checkout"
        );
        assert!(image(Registry::Acr, Cloud::Azure, "x", "eastus").starts_with("acmecheckout"));
        assert!(
            image(Registry::Acr, Cloud::Azure, "x", "eastus").ends_with(".azurecr.io/checkout")
        );
    }
}
