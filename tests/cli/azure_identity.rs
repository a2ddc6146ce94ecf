//! Behaviour of the Azure deploy step "Azure identity IDs into the overlay", the scaffold's
//! `ci/azure-identity.sh`, which the GitHub workflow and the GitLab pipeline both run: it is run
//! with a fake `az`, in a copy of the scaffold's overlays and scripts. It must write the two IDs
//! Azure assigned into `azure-identity.env`, and the overlay built by kustomize must then carry
//! them in the ServiceAccount annotation and the RoleBinding subjects. An identity that cannot be
//! read fails the step and leaves the file as it was.

use std::process::Command;

use assert_fs::TempDir;

use crate::ci_verify::write_exe;
use crate::snapshots::tree_with;
use crate::validators::tool;

const CLIENT_ID: &str = "3c1f9a5e-7b2d-4e8f-a6c4-0d9e8f7a6b5c";
const PRINCIPAL_ID: &str = "8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5f6e";
const ZERO: &str = "00000000-0000-0000-0000-000000000000";

/// Answers `az identity show` for the two identities of checkout-dev, or fails (no such
/// identity) when $FAKE_MISSING is set. Records every call.
const FAKE_AZ: &str = r#"#!/usr/bin/env bash
set -euo pipefail
printf '%s\n' "$*" >> "$FAKE/calls"
if [[ -n "${FAKE_MISSING:-}" ]]; then
  echo "ERROR: (ResourceNotFound) The Resource was not found." >&2
  exit 3
fi
case "$*" in
  "identity show --resource-group rg-checkout-dev --name id-checkout-dev-secret-sync --query clientId --output tsv")
    echo "$CLIENT_ID" ;;
  "identity show --resource-group rg-checkout-dev --name id-checkout-dev-ci --query principalId --output tsv")
    echo "$PRINCIPAL_ID" ;;
  *)
    echo "fake az has no answer for: az $*" >&2
    exit 1 ;;
esac
"#;

struct Run {
    ok: bool,
    env_file: String,
    stderr: String,
    dir: TempDir,
}

fn run(missing: bool) -> Option<Run> {
    let bash = tool("bash")?;
    let tree = tree_with("default", &[("cloud", "azure"), ("registry", "acr")]);
    let dir = TempDir::new().unwrap();
    for (path, bytes) in tree
        .iter()
        .filter(|(p, _)| p.starts_with("deploy/") || p.starts_with("ci/"))
    {
        let dest = dir.path().join(path);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(dest, bytes).unwrap();
    }
    let fake = dir.path().join("fake");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&fake).unwrap();
    std::fs::create_dir(&bin).unwrap();
    write_exe(&bin.join("az"), FAKE_AZ);
    let path = std::env::join_paths(
        std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let mut cmd = Command::new(bash);
    cmd.arg("ci/azure-identity.sh")
        .current_dir(dir.path())
        .env_clear()
        .env("GITHUB_ACTIONS", "true")
        .env("PATH", path)
        .env("HOME", dir.path())
        .env("FAKE", &fake)
        .env("CLIENT_ID", CLIENT_ID)
        .env("PRINCIPAL_ID", PRINCIPAL_ID)
        .env("APP", "checkout")
        .env("TARGET_ENV", "dev");
    if missing {
        cmd.env("FAKE_MISSING", "1");
    }
    let out = cmd.output().unwrap();
    let env_file = std::fs::read_to_string(
        dir.path()
            .join("deploy/kubernetes/overlays/dev/azure-identity.env"),
    )
    .unwrap();
    Some(Run {
        ok: out.status.success(),
        env_file,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        dir,
    })
}

/// Both CI systems run the script in their deploy jobs, and it exists only on Azure.
#[test]
fn both_pipelines_run_the_script_on_azure_only() {
    let azure = [("cloud", "azure"), ("registry", "acr")];
    let github = tree_with("default", &azure);
    let workflow = String::from_utf8(github[".github/workflows/ci.yml"].clone()).unwrap();
    assert!(
        workflow.contains("      - name: Azure identity IDs into the overlay\n        run: bash ci/azure-identity.sh\n"),
        "ci.yml does not run ci/azure-identity.sh"
    );
    let gitlab = tree_with("default", &[azure[0], azure[1], ("ci", "gitlab")]);
    let delivery = String::from_utf8(gitlab[".gitlab/ci/delivery.yml"].clone()).unwrap();
    assert!(
        delivery.contains("    - bash ci/azure-identity.sh\n"),
        "delivery.yml does not run ci/azure-identity.sh"
    );
    assert!(
        github.contains_key("ci/azure-identity.sh") && gitlab.contains_key("ci/azure-identity.sh")
    );
    assert!(!tree_with("default", &[]).contains_key("ci/azure-identity.sh"));
}

#[test]
fn the_deploy_step_writes_the_assigned_ids_and_kustomize_puts_them_in_place() {
    let Some(r) = run(false) else { return };
    assert!(r.ok, "step failed:\n{}", r.stderr);
    assert!(
        r.env_file
            .contains(&format!("\nSECRET_SYNC_CLIENT_ID={CLIENT_ID}\n")),
        "{}",
        r.env_file
    );
    assert!(
        r.env_file
            .contains(&format!("\nCI_PRINCIPAL_ID={PRINCIPAL_ID}\n")),
        "{}",
        r.env_file
    );
    assert!(!r.env_file.contains(ZERO), "{}", r.env_file);
    // The explanation above the values stays.
    assert!(r.env_file.lines().filter(|l| l.starts_with('#')).count() > 3);

    let Some(kubectl) = tool("kubectl") else {
        return;
    };
    let out = Command::new(kubectl)
        .args(["kustomize", "deploy/kubernetes/overlays/dev"])
        .current_dir(r.dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let built = String::from_utf8(out.stdout).unwrap();
    assert!(
        built.contains(&format!("azure.workload.identity/client-id: {CLIENT_ID}")),
        "{built}"
    );
    // Both CI RoleBindings name the CI identity's principal; the generator's ConfigMap is not
    // part of the output.
    assert_eq!(
        built.matches(&format!("name: {PRINCIPAL_ID}")).count(),
        2,
        "{built}"
    );
    assert!(
        !built.contains(ZERO) && !built.contains("name: azure-identity"),
        "{built}"
    );
}

#[test]
fn an_identity_that_cannot_be_read_fails_the_step_and_changes_nothing() {
    let Some(r) = run(true) else { return };
    assert!(!r.ok, "the step passed without the identities");
    assert!(
        r.stderr.contains("ResourceNotFound") || r.stderr.contains("could not read"),
        "{}",
        r.stderr
    );
    assert_eq!(r.env_file.matches(ZERO).count(), 2, "{}", r.env_file);
}
