//! Which template files an answer brings. This is the one place that says so: templates never
//! decide whether they exist, and the code never scatters path checks elsewhere.

use crate::answers::Answers;
use crate::options::{Ci, Cloud, Gitops, Language, Registry, Rollout};

/// A path pattern: a directory prefix (`dir/`), a suffix (`*.go`) or one exact path. Patterns
/// match the template's path after `.j2` is dropped, with `__env__` and `@variant` segments kept
/// as they are (`terraform@gcp/` selects the GCP variant of `terraform/`).
struct Rule {
    pattern: &'static str,
    when: fn(&Answers) -> bool,
}

/// The service skeleton: the language's sources, tests, build manifest and lockfile. `init` leaves
/// them out (the adopted repository has its own code); everything else is the infrastructure.
const SKELETON: &[Rule] = &[
    Rule {
        pattern: "*.go",
        when: |a| a.language == Language::Go,
    },
    Rule {
        pattern: "go.mod",
        when: |a| a.language == Language::Go,
    },
    Rule {
        pattern: "package.json",
        when: |a| a.language == Language::Node,
    },
    Rule {
        pattern: "package-lock.json",
        when: |a| a.language == Language::Node,
    },
    Rule {
        pattern: "*.js",
        when: |a| a.language == Language::Node,
    },
    Rule {
        pattern: "pyproject.toml",
        when: |a| a.language == Language::Python,
    },
    Rule {
        pattern: "requirements.txt",
        when: |a| a.language == Language::Python,
    },
    Rule {
        pattern: "*.py",
        when: |a| a.language == Language::Python,
    },
    Rule {
        pattern: "Cargo.toml",
        when: |a| a.language == Language::Rust,
    },
    Rule {
        pattern: "Cargo.lock",
        when: |a| a.language == Language::Rust,
    },
    Rule {
        pattern: "*.rs",
        when: |a| a.language == Language::Rust,
    },
    Rule {
        pattern: "pom.xml",
        when: |a| a.language == Language::Java,
    },
    Rule {
        pattern: "*.java",
        when: |a| a.language == Language::Java,
    },
];

const RULES: &[Rule] = &[
    // CI system.
    Rule {
        pattern: ".github/",
        when: |a| a.ci == Ci::Github,
    },
    Rule {
        pattern: ".gitlab-ci.yml",
        when: |a| a.ci == Ci::Gitlab,
    },
    Rule {
        pattern: ".gitlab/",
        when: |a| a.ci == Ci::Gitlab,
    },
    // GitOps engine: its bootstrap objects and its component for the workload overlays.
    Rule {
        pattern: "deploy/argocd/",
        when: |a| a.gitops == Gitops::Argocd,
    },
    Rule {
        pattern: "deploy/kubernetes/components/argocd/",
        when: |a| a.gitops == Gitops::Argocd,
    },
    Rule {
        pattern: "deploy/flux/",
        when: |a| a.gitops == Gitops::Flux,
    },
    Rule {
        pattern: "deploy/kubernetes/components/flux/",
        when: |a| a.gitops == Gitops::Flux,
    },
    // Rollout strategy: the Argo Rollouts strategies each have a component, and every overlay
    // tunes the Rollout for its environment.
    Rule {
        pattern: "deploy/kubernetes/components/blue-green/",
        when: |a| a.rollout == Rollout::BlueGreen,
    },
    Rule {
        pattern: "deploy/kubernetes/components/canary/",
        when: |a| a.rollout == Rollout::Canary,
    },
    Rule {
        pattern: "deploy/kubernetes/overlays/__env__/rollout-patch.yaml",
        when: |a| a.rollout != Rollout::Rolling,
    },
    // The rollback's abort of an Argo Rollouts update in progress (ci/ itself renders for every CI).
    Rule {
        pattern: "ci/abort-rollout.sh",
        when: |a| a.rollout != Rollout::Rolling,
    },
    // The Argo Rollouts alerts' runbooks (the alerts exist only with a Rollout).
    Rule {
        pattern: "docs/runbooks/RolloutAborted.md",
        when: |a| a.rollout != Rollout::Rolling,
    },
    Rule {
        pattern: "docs/runbooks/RolloutDegraded.md",
        when: |a| a.rollout != Rollout::Rolling,
    },
    // Cloud: its Terraform (a variant directory, written as terraform/) and its secret sync; on
    // Azure, the deploy script that writes the identity IDs into the overlay.
    Rule {
        pattern: "ci/azure-identity.sh",
        when: |a| a.cloud == Cloud::Azure,
    },
    Rule {
        pattern: "terraform@aws/",
        when: |a| a.cloud == Cloud::Aws,
    },
    Rule {
        pattern: "terraform@gcp/",
        when: |a| a.cloud == Cloud::Gcp,
    },
    Rule {
        pattern: "terraform@azure/",
        when: |a| a.cloud == Cloud::Azure,
    },
    // The cloud's own registry: its repository and push identity.
    Rule {
        pattern: "terraform@aws/bootstrap/ecr.tf",
        when: |a| a.registry == Registry::Ecr,
    },
    Rule {
        pattern: "terraform@aws/modules/ecr-repository/",
        when: |a| a.registry == Registry::Ecr,
    },
    Rule {
        pattern: "terraform@gcp/bootstrap/registry.tf",
        when: |a| a.registry == Registry::Gar,
    },
    Rule {
        pattern: "terraform@azure/bootstrap/registry.tf",
        when: |a| a.registry == Registry::Acr,
    },
    Rule {
        pattern: "deploy/kubernetes/components/aws/",
        when: |a| a.cloud == Cloud::Aws,
    },
    Rule {
        pattern: "deploy/kubernetes/components/gcp/",
        when: |a| a.cloud == Cloud::Gcp,
    },
    Rule {
        pattern: "deploy/kubernetes/components/azure/",
        when: |a| a.cloud == Cloud::Azure,
    },
    Rule {
        pattern: "deploy/kubernetes/overlays/__env__/azure-identity.env",
        when: |a| a.cloud == Cloud::Azure,
    },
];

fn matches(pattern: &str, path: &str) -> bool {
    if let Some(suffix) = pattern.strip_prefix('*') {
        path.ends_with(suffix)
    } else if pattern.ends_with('/') {
        path.starts_with(pattern)
    } else {
        path == pattern
    }
}

/// Whether the template at output path `path` belongs in the scaffold for `answers`: every rule
/// that matches the path must hold.
pub fn includes(path: &str, answers: &Answers) -> bool {
    SKELETON
        .iter()
        .chain(RULES)
        .filter(|r| matches(r.pattern, path))
        .all(|r| (r.when)(answers))
}

/// Whether output path `path` is part of the service skeleton (for any language).
pub fn is_skeleton(path: &str) -> bool {
    SKELETON.iter().any(|r| matches(r.pattern, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(matches("*.go", "main.go"));
        assert!(matches("*.go", "internal/x.go"));
        assert!(!matches("*.go", "go.mod"));
        assert!(matches(".github/", ".github/workflows/ci.yml"));
        assert!(!matches(".github/", ".githubx"));
        assert!(matches("go.mod", "go.mod"));
        assert!(!matches("go.mod", "sub/go.mod"));
    }

    #[test]
    fn only_the_chosen_components_and_gitops_directory_render() {
        let answers = crate::presets::answers(
            "default",
            &[
                ("name", "checkout"),
                ("org", "acme"),
                ("account", "111122223333"),
                ("rollout", "canary"),
                ("gitops", "flux"),
            ],
        )
        .unwrap();
        let c = "deploy/kubernetes/components/";
        for path in [
            "deploy/flux/kustomization.yaml",
            &format!("{c}canary/rollout.yaml"),
            &format!("{c}flux/kustomization.yaml"),
            &format!("{c}aws/secretstore.yaml"),
            "deploy/kubernetes/overlays/__env__/rollout-patch.yaml",
            "ci/abort-rollout.sh",
        ] {
            assert!(includes(path, &answers), "{path}");
        }
        for path in [
            "deploy/argocd/project.yaml",
            &format!("{c}blue-green/rollout.yaml"),
            &format!("{c}argocd/kustomization.yaml"),
        ] {
            assert!(!includes(path, &answers), "{path}");
        }
        let rolling = crate::presets::answers(
            "default",
            &[
                ("name", "checkout"),
                ("org", "acme"),
                ("account", "111122223333"),
            ],
        )
        .unwrap();
        assert!(!includes(
            "deploy/kubernetes/overlays/__env__/rollout-patch.yaml",
            &rolling
        ));
        assert!(!includes("ci/abort-rollout.sh", &rolling));
        assert!(includes("ci/deploy.sh", &rolling));
    }
}
