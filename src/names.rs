//! Cloud resource names derived from the answers, where the cloud limits length or characters
//! more than a service name does. Terraform, the manifests and the CI files all read these values
//! from here, so they always agree.
//!
//! The rules are frozen: a state storage account or bucket name is written into every backend
//! block, and a Key Vault or registry name into manifests and image references. Changing a rule
//! would point an existing scaffold at resources that do not exist, so the tests pin exact values.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::options::{Choice, Ci, Cloud};
use crate::render::ENVIRONMENTS;

/// GCP service account IDs: 6 to 30 characters.
const GCP_SERVICE_ACCOUNT_MAX: usize = 30;
/// GCP workload identity pool IDs: 4 to 32 characters.
const GCP_POOL_MAX: usize = 32;

/// The names of a service's cloud resources that are not simply `<name>` or `<name>-<env>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CloudNames {
    /// The Terraform state bucket (AWS S3, GCS) or storage account (Azure).
    pub state: String,
    /// The image repository in the cloud's own registry: the ECR repository, the Artifact
    /// Registry repository ID, or the Azure Container Registry's name.
    pub registry: String,
    /// GCP only: service account IDs by role (`plan`, `push`, and each environment's CI account
    /// under the environment's name).
    pub service_accounts: BTreeMap<&'static str, String>,
    /// GCP only: the Workload Identity Federation pool that trusts the CI system's tokens for
    /// this repository (4-32 characters, unique in the project).
    pub workload_identity_pool: Option<String>,
    /// Azure only: each environment's Key Vault.
    pub key_vaults: BTreeMap<&'static str, String>,
}

impl CloudNames {
    pub fn new(cloud: Cloud, ci: Ci, org: &str, name: &str) -> CloudNames {
        let hash = short_hash(org, name);
        let mut names = CloudNames {
            state: format!("{org}-{name}-tfstate"),
            registry: name.to_string(),
            service_accounts: BTreeMap::new(),
            workload_identity_pool: None,
            key_vaults: BTreeMap::new(),
        };
        match cloud {
            Cloud::Aws => {}
            Cloud::Gcp => {
                // The pool trusts one CI system's issuer, and says which.
                names.workload_identity_pool = Some(fit(name, ci.id(), &hash, GCP_POOL_MAX));
                let mut add = |role: &'static str, suffix: String| {
                    names
                        .service_accounts
                        .insert(role, fit(name, &suffix, &hash, GCP_SERVICE_ACCOUNT_MAX));
                };
                add("plan", "tf-plan".into());
                add("push", "push".into());
                for env in ENVIRONMENTS {
                    add(env, format!("{env}-ci"));
                }
            }
            Cloud::Azure => {
                let both = alnum(&format!("{org}{name}"));
                // Storage accounts: 3-24 lowercase letters and digits, globally unique.
                names.state = format!("st{}{hash}", take(&both, 16));
                // Container registries: 5-50 letters and digits, globally unique.
                names.registry = format!("{}{hash}", take(&both, 44));
                // Key Vaults: 3-24 letters, digits and single '-', starting with a letter,
                // globally unique (and reserved while soft-deleted).
                let alnum_name = alnum(name);
                let short = take(&alnum_name, 11);
                for env in ENVIRONMENTS {
                    let initial = &env[..1];
                    names
                        .key_vaults
                        .insert(env, format!("kv-{short}-{initial}{hash}"));
                }
            }
        }
        names
    }
}

/// `<name>-<suffix>` in at most `max` characters: when that is too long, the name is cut and the
/// service's hash keeps two cut names apart.
fn fit(name: &str, suffix: &str, hash: &str, max: usize) -> String {
    let whole = format!("{name}-{suffix}");
    if whole.len() <= max {
        return whole;
    }
    let keep = max - suffix.len() - hash.len() - 2;
    let cut = take(name, keep).trim_end_matches('-').to_string();
    format!("{cut}-{hash}-{suffix}")
}

fn alnum(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

fn take(s: &str, n: usize) -> &str {
    &s[..s.len().min(n)]
}

/// Six hex digits of the 32-bit FNV-1a hash of `<org>/<name>`: short, stable across versions and
/// platforms, and different for `ab/c-d` and `abc/d`.
fn short_hash(org: &str, name: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in format!("{org}/{name}").bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{h:08x}")[..6].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_fnv1a_and_never_changes() {
        // FNV-1a 32 of "" is the offset basis; of "a" it is 0xe40c292c.
        assert_eq!(short_hash("", "").len(), 6);
        let mut h: u32 = 0x811c_9dc5;
        h ^= u32::from(b'a');
        h = h.wrapping_mul(0x0100_0193);
        assert_eq!(h, 0xe40c_292c);
        // Computed independently (Python) when the rule was frozen.
        assert_eq!(short_hash("acme", "checkout"), "4249f3");
        assert_ne!(short_hash("ab", "c-d"), short_hash("abc", "d"));
    }

    #[test]
    fn aws_and_gcp_state_buckets_are_readable() {
        let aws = CloudNames::new(Cloud::Aws, Ci::Github, "acme", "checkout");
        assert_eq!(aws.state, "acme-checkout-tfstate");
        assert_eq!(aws.registry, "checkout");
        assert!(aws.service_accounts.is_empty() && aws.key_vaults.is_empty());
        let gcp = CloudNames::new(Cloud::Gcp, Ci::Github, "acme", "checkout");
        assert_eq!(gcp.state, "acme-checkout-tfstate");
    }

    #[test]
    fn gcp_service_accounts_fit_thirty_characters() {
        let short = CloudNames::new(Cloud::Gcp, Ci::Github, "acme", "checkout");
        assert_eq!(short.service_accounts["plan"], "checkout-tf-plan");
        assert_eq!(short.service_accounts["push"], "checkout-push");
        assert_eq!(
            short.service_accounts["production"],
            "checkout-production-ci"
        );
        assert_eq!(
            short.workload_identity_pool.as_deref(),
            Some("checkout-github")
        );
        let gitlab = CloudNames::new(Cloud::Gcp, Ci::Gitlab, "acme", "checkout");
        assert_eq!(
            gitlab.workload_identity_pool.as_deref(),
            Some("checkout-gitlab")
        );

        let long_name = "payments-reconciliation-service-eu-west";
        let long = CloudNames::new(Cloud::Gcp, Ci::Github, "acme", long_name);
        let hash = short_hash("acme", long_name);
        for (role, id) in &long.service_accounts {
            assert!((6..=30).contains(&id.len()), "{role}: {id}");
            assert!(id.starts_with("payments-"), "{id}");
            assert!(!id.contains("--"), "{id}");
            assert!(id.contains(&hash), "{id}");
        }
        let pool = long.workload_identity_pool.unwrap();
        assert!(pool.len() <= 32 && pool.ends_with("-github"), "{pool}");
        assert_eq!(
            long.service_accounts["production"],
            format!("payments-{hash}-production-ci")
        );
    }

    #[test]
    fn azure_names_fit_their_global_namespaces() {
        let n = CloudNames::new(Cloud::Azure, Ci::Github, "acme", "checkout");
        let hash = short_hash("acme", "checkout");
        assert_eq!(n.state, format!("stacmecheckout{hash}"));
        assert_eq!(n.registry, format!("acmecheckout{hash}"));
        assert_eq!(n.key_vaults["production"], format!("kv-checkout-p{hash}"));

        let long = CloudNames::new(
            Cloud::Azure,
            Ci::Github,
            "a-very-long-organisation-name-here",
            "payments-reconciliation-service-eu-west",
        );
        assert_eq!(long.state.len(), 24);
        assert!(
            long.state
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert!((5..=50).contains(&long.registry.len()));
        assert!(long.registry.bytes().all(|b| b.is_ascii_alphanumeric()));
        for kv in long.key_vaults.values() {
            assert!((3..=24).contains(&kv.len()), "{kv}");
            assert!(!kv.contains("--"), "{kv}");
        }
        let kvs: std::collections::BTreeSet<_> = long.key_vaults.values().collect();
        assert_eq!(kvs.len(), 3);
    }
}
