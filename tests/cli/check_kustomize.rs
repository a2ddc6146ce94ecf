//! `infra-new check` with kubectl: every Kustomize root is rendered with `kubectl kustomize` and
//! the output checked too. What only the rendered output shows (an overlay's patch) is reported
//! on the overlay's kustomization file; what the overlays fix is not reported on the base.
//!
//! kubectl is looked for in `target/validators/bin` and then on PATH. Without it these tests are
//! skipped (said on stderr), unless `INFRA_NEW_REQUIRE_VALIDATORS=1` makes that a failure.

use std::path::{Path, PathBuf};

use assert_fs::TempDir;
use infra_new::check::{self, Options, Report};

fn kubectl() -> Option<PathBuf> {
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/validators/bin/kubectl");
    let on_path = || {
        std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|dir| dir.join("kubectl"))
            .find(|p| p.is_file())
    };
    let found = if bundled.is_file() {
        Some(bundled)
    } else {
        on_path()
    };
    if found.is_none() {
        if std::env::var("INFRA_NEW_REQUIRE_VALIDATORS").is_ok_and(|v| v == "1") {
            panic!("`kubectl` is in neither target/validators/bin nor PATH (needed for kustomize)");
        }
        eprintln!(
            "skipped: `kubectl` is in neither target/validators/bin nor PATH (needed to render \
             Kustomize overlays)"
        );
    }
    found
}

fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn lines(report: &Report) -> Vec<String> {
    report.findings.iter().map(ToString::to_string).collect()
}

/// A complete base: the image has no tag (each overlay pins it), no namespace (the overlays set
/// one), and `readOnlyRootFilesystem` is left to the overlays when `hardened` is false.
fn base(hardened: bool) -> Vec<(&'static str, String)> {
    let read_only = if hardened {
        "          readOnlyRootFilesystem: true\n"
    } else {
        ""
    };
    vec![
        (
            "deploy/base/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n\
             - deployment.yaml\n- pdb.yaml\n- hpa.yaml\n"
                .to_owned(),
        ),
        (
            "deploy/base/deployment.yaml",
            format!(
                "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector:
    matchLabels: {{app: api}}
  template:
    metadata:
      labels: {{app: api}}
    spec:
      securityContext: {{runAsNonRoot: true, runAsUser: 10001}}
      containers:
      - name: api
        image: ghcr.io/acme/api
        resources:
          requests: {{cpu: 100m, memory: 128Mi}}
          limits: {{cpu: 500m, memory: 128Mi}}
        securityContext:
          allowPrivilegeEscalation: false
{read_only}          capabilities: {{drop: [ALL]}}
        readinessProbe: {{httpGet: {{path: /readyz, port: 8080}}}}
        livenessProbe: {{httpGet: {{path: /healthz, port: 8080}}}}
"
            ),
        ),
        (
            "deploy/base/pdb.yaml",
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: api\nspec:\n  \
             maxUnavailable: 1\n  selector:\n    matchLabels: {app: api}\n"
                .to_owned(),
        ),
        (
            "deploy/base/hpa.yaml",
            "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: api\n\
             spec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}\n  \
             minReplicas: 2\n  maxReplicas: 4\n"
                .to_owned(),
        ),
    ]
}

fn overlay(env: &str, patch: &str) -> Vec<(String, String)> {
    vec![
        (
            format!("deploy/overlays/{env}/kustomization.yaml"),
            format!(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n\
                 - ../../base\nnamespace: shop-{env}\npatches:\n- path: deployment-patch.yaml\n\
                 images:\n- name: ghcr.io/acme/api\n  newTag: 1.0.0\n"
            ),
        ),
        (
            format!("deploy/overlays/{env}/deployment-patch.yaml"),
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  \
                 template:\n    spec:\n      containers:\n      - name: api\n{patch}"
            ),
        ),
    ]
}

fn tree(hardened: bool, overlays: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new().unwrap();
    let mut files: Vec<(String, String)> = base(hardened)
        .into_iter()
        .map(|(p, t)| (p.to_owned(), t))
        .collect();
    for (env, patch) in overlays {
        files.extend(overlay(env, patch));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write(dir.path(), &refs);
    dir
}

const PATCH_LATEST: &str = "        image: ghcr.io/acme/api-debug:latest\n";
const PATCH_ENV: &str = "        env:\n        - {name: LOG_LEVEL, value: debug}\n";
const PATCH_READ_ONLY: &str = "        securityContext:\n          readOnlyRootFilesystem: true\n";

#[test]
fn a_patch_that_breaks_a_rule_is_reported_on_its_overlay_only_when_rendered() {
    let Some(kubectl) = kubectl() else {
        return;
    };
    let dir = tree(true, &[("dev", PATCH_ENV), ("prod", PATCH_LATEST)]);

    let raw = check::check(dir.path(), &Options::default()).unwrap();
    assert!(raw.findings.is_empty(), "{:#?}", lines(&raw));
    assert!(
        raw.notes
            .iter()
            .any(|n| n.starts_with("kubectl not found: 2 Kustomize root(s)")),
        "{:?}",
        raw.notes
    );

    let rendered = check::check(
        dir.path(),
        &Options {
            kubectl: Some(kubectl),
        },
    )
    .unwrap();
    let found = lines(&rendered);
    assert_eq!(found.len(), 1, "{found:#?}");
    let finding = &rendered.findings[0];
    assert_eq!(
        (finding.rule.id, finding.path.as_str(), finding.line),
        ("K8S008", "deploy/overlays/prod/kustomization.yaml", None),
        "{found:#?}"
    );
    assert!(
        finding
            .message
            .starts_with("deploy/overlays/prod (rendered): Deployment/api: ")
            && finding.message.contains("ghcr.io/acme/api-debug:latest"),
        "{}",
        finding.message
    );
    assert!(rendered.notes.is_empty(), "{:?}", rendered.notes);
}

#[test]
fn what_every_overlay_fixes_is_not_reported_on_the_base_when_rendered() {
    let Some(kubectl) = kubectl() else {
        return;
    };
    let dir = tree(
        false,
        &[("dev", PATCH_READ_ONLY), ("prod", PATCH_READ_ONLY)],
    );
    let raw = check::check(dir.path(), &Options::default()).unwrap();
    assert_eq!(
        lines(&raw),
        [
            "deploy/base/deployment.yaml:14: K8S006 container \"api\" does not set \
          readOnlyRootFilesystem: true"
        ]
    );
    let rendered = check::check(
        dir.path(),
        &Options {
            kubectl: Some(kubectl.clone()),
        },
    )
    .unwrap();
    assert!(rendered.findings.is_empty(), "{:#?}", lines(&rendered));

    // When only one overlay fixes it, the base's finding stays (where an ignore can cover it)
    // and names the overlay that still deploys it.
    let dir = tree(false, &[("dev", PATCH_READ_ONLY), ("prod", PATCH_ENV)]);
    let rendered = check::check(
        dir.path(),
        &Options {
            kubectl: Some(kubectl),
        },
    )
    .unwrap();
    assert_eq!(
        lines(&rendered),
        [
            "deploy/base/deployment.yaml:14: K8S006 container \"api\" does not set \
          readOnlyRootFilesystem: true (via deploy/overlays/prod)"
        ]
    );
}

#[test]
fn a_root_that_does_not_build_is_checked_file_by_file_and_noted() {
    let Some(kubectl) = kubectl() else {
        return;
    };
    let dir = tree(false, &[("dev", PATCH_ENV)]);
    write(
        dir.path(),
        &[(
            "deploy/overlays/dev/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n\
             - ../../base\n- missing.yaml\nnamespace: shop-dev\nimages:\n\
             - name: ghcr.io/acme/api\n  newTag: 1.0.0\n",
        )],
    );
    let report = check::check(
        dir.path(),
        &Options {
            kubectl: Some(kubectl),
        },
    )
    .unwrap();
    assert_eq!(
        lines(&report),
        [
            "deploy/base/deployment.yaml:14: K8S006 container \"api\" does not set \
          readOnlyRootFilesystem: true"
        ]
    );
    assert_eq!(report.notes.len(), 1, "{:?}", report.notes);
    assert!(
        report.notes[0].starts_with("kustomize build failed for deploy/overlays/dev: "),
        "{:?}",
        report.notes
    );
}
