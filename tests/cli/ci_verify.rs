//! Behaviour of the deploy jobs' "Wait for the Argo Rollouts <strategy> update" step
//! (templates/_rollout/argo-rollouts/ci-verify.yml.j2): its `run:` script is taken out of the
//! rendered ci.yml and run as GitHub runs a step without `shell:` (`bash -e {0}`; the script
//! sets `-euo pipefail` itself), with a fake `kubectl` that answers from Argo Rollouts status
//! fixtures and a fake `sleep` that returns at once. Needs bash and jq (see `tool`).

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_fs::TempDir;

use crate::snapshots::tree_with;
use crate::validators::tool;

const APP: &str = "checkout";
const IMAGE: &str = "ghcr.io/acme/checkout";
/// The digest this run deploys, the one before it, and a newer run's.
const DIGEST: &str = "sha256:9f2c4e1a7b3d5f60812a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b61";
const OLD_DIGEST: &str = "sha256:1d3f5b7c9e0a2c4e6a8b0d2f4c6e8a0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a13";
const NEWER_DIGEST: &str =
    "sha256:c4e6a8b0d2f4c6e8a0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a1c3e5b7d9f1a3c5";
/// rollouts-pod-template-hash of the ReplicaSets for those digests.
const NEW_HASH: &str = "5f6d8c9b7d";
const OLD_HASH: &str = "7b9c5d8f4c";
const NEWER_HASH: &str = "6c8b4f7d9x";

/// Answers the step's reads from the files in $FAKE; records every call in $FAKE/calls and the
/// ones it does not know in $FAKE/unexpected (then fails, as kubectl would).
const FAKE_KUBECTL: &str = r#"#!/usr/bin/env bash
set -euo pipefail
printf '%s\n' "$*" >> "$FAKE/calls"
ns="${APP}-${TARGET_ENV}"
case "$*" in
  "-n $ns get rollouts.argoproj.io/$APP -o json")
    # rollout-<n>.json answers the n-th read; the last one answers every later read.
    echo . >> "$FAKE/rollout-reads"
    n=$(wc -l < "$FAKE/rollout-reads")
    last=$(find "$FAKE" -maxdepth 1 -name 'rollout-*.json' | wc -l)
    cat "$FAKE/rollout-$(( n < last ? n : last )).json" ;;
  "-n $ns get replicasets -l app.kubernetes.io/name=$APP,rollouts-pod-template-hash="*" -o json")
    hash="${6##*=}"
    if [[ -f "$FAKE/rs-$hash.json" ]]; then cat "$FAKE/rs-$hash.json"
    else echo '{"apiVersion":"v1","items":[],"kind":"List","metadata":{"resourceVersion":""}}'; fi ;;
  "-n $ns get deployment $APP -o json")
    cat "$FAKE/deployment.json" ;;
  "-n $ns get analysisruns.argoproj.io -l rollouts-pod-template-hash="*)
    cat "$FAKE/analysisruns.txt" ;;
  *)
    printf '%s\n' "$*" >> "$FAKE/unexpected"
    echo "error: fake kubectl has no answer for: kubectl $*" >&2
    exit 1 ;;
esac
"#;

/// Returns at once and records the seconds asked for; fails the step after $FAKE_MAX_SLEEPS, so a
/// step that never decides ends instead of polling until its real ROLLOUT_TIMEOUT.
const FAKE_SLEEP: &str = r#"#!/usr/bin/env bash
set -euo pipefail
printf '%s\n' "$*" >> "$FAKE/sleeps"
if (( $(wc -l < "$FAKE/sleeps") > FAKE_MAX_SLEEPS )); then
  echo "fake sleep: still polling after ${FAKE_MAX_SLEEPS} sleeps" | tee "$FAKE/too-many-sleeps" >&2
  exit 1
fi
"#;

/// The step's name and its `run: |` script, dedented. Fails when the step, its `run: |` block or
/// GitHub's default shell (no `shell:` in the step, no `defaults:` in the workflow) is not there.
pub(crate) fn run_script(workflow: &str, step: &str) -> String {
    fn indent(line: &str) -> usize {
        line.len() - line.trim_start().len()
    }
    let lines: Vec<&str> = workflow.lines().collect();
    let header = format!("- name: {step}");
    let start = lines
        .iter()
        .position(|l| l.trim_start() == header)
        .unwrap_or_else(|| panic!("no step `{step}` in the workflow"));
    let key = indent(lines[start]) + 2;
    let body: Vec<&str> = lines[start + 1..]
        .iter()
        .take_while(|l| l.trim().is_empty() || indent(l) >= key)
        .copied()
        .collect();
    assert!(
        !body
            .iter()
            .any(|l| indent(l) == key && l.trim_start().starts_with("shell:"))
            && !lines.iter().any(|l| l.starts_with("defaults:")),
        "step `{step}`: this test runs it with GitHub's default shell, but it sets one"
    );
    let run = body
        .iter()
        .position(|l| indent(l) == key && l.trim_start() == "run: |")
        .unwrap_or_else(|| panic!("step `{step}` has no `run: |` block"));
    let script: Vec<&str> = body[run + 1..]
        .iter()
        .take_while(|l| l.trim().is_empty() || indent(l) > key)
        .map(|l| l.get(key + 2..).unwrap_or(""))
        .collect();
    assert!(
        script.iter().any(|l| !l.trim().is_empty()),
        "step `{step}`: empty `run: |` block"
    );
    script.join("\n") + "\n"
}

/// The verify step's script in the ci.yml of the default preset with `strategy`; the same step in
/// rollback.yml must be the same script.
fn verify_script(strategy: &str) -> String {
    let tree = tree_with("default", &[("rollout", strategy)]);
    let step = format!("Wait for the Argo Rollouts {strategy} update");
    let read = |path: &str| String::from_utf8(tree[path].clone()).unwrap();
    let script = run_script(&read(".github/workflows/ci.yml"), &step);
    assert_eq!(
        run_script(&read(".github/workflows/rollback.yml"), &step),
        script,
        "rollback.yml verifies differently from ci.yml"
    );
    script
}

/// One scenario's fixtures: the Rollout as it reads poll after poll, and the other objects.
struct Cluster {
    rollouts: Vec<String>,
    replicasets: Vec<(&'static str, String)>,
    deployment: String,
    analysisruns: &'static str,
}

struct Outcome {
    success: bool,
    stdout: String,
    summary: String,
    calls: Vec<String>,
    sleeps: Vec<String>,
}

/// Runs the `strategy`'s verify step for `env` against `cluster`, with the job's environment.
fn run_step(
    strategy: &str,
    env: &str,
    timeout: &str,
    max_sleeps: u32,
    cluster: &Cluster,
) -> Option<Outcome> {
    let (Some(bash), Some(jq)) = (tool("bash"), tool("jq")) else {
        return None;
    };
    let dir = TempDir::new().unwrap();
    let fake = dir.path().join("fake");
    let bin = dir.path().join("bin");
    let temp = dir.path().join("runner-temp");
    for d in [&fake, &bin, &temp] {
        std::fs::create_dir(d).unwrap();
    }
    let script = dir.path().join("step.sh");
    std::fs::write(&script, verify_script(strategy)).unwrap();
    write_exe(&bin.join("kubectl"), FAKE_KUBECTL);
    write_exe(&bin.join("sleep"), FAKE_SLEEP);
    for (i, r) in cluster.rollouts.iter().enumerate() {
        std::fs::write(fake.join(format!("rollout-{}.json", i + 1)), r).unwrap();
    }
    for (hash, rs) in &cluster.replicasets {
        std::fs::write(fake.join(format!("rs-{hash}.json")), rs).unwrap();
    }
    std::fs::write(fake.join("deployment.json"), &cluster.deployment).unwrap();
    std::fs::write(fake.join("analysisruns.txt"), cluster.analysisruns).unwrap();
    // A broken fixture would only look like an API hiccup to the step, which retries those.
    for f in std::fs::read_dir(&fake).unwrap() {
        let f = f.unwrap().path();
        if f.extension().is_some_and(|e| e == "json") {
            let ok = Command::new(&jq).args(["empty"]).arg(&f).status().unwrap();
            assert!(ok.success(), "fixture {} is not JSON", f.display());
        }
    }
    let summary = dir.path().join("step-summary.md");
    std::fs::write(&summary, "").unwrap();

    let path = std::env::join_paths(
        std::iter::once(bin.clone())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    // The job's env (ci.yml's workflow env and the deploy job's) and the runner's; nothing else, so
    // a variable the script starts to need fails here under `set -u`.
    let out = Command::new(bash)
        .arg("-e")
        .arg(&script)
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir.path())
        .env("APP", APP)
        .env("IMAGE", IMAGE)
        .env("TARGET_ENV", env)
        .env("DIGEST", DIGEST)
        .env("ROLLOUT_TIMEOUT", timeout)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", dir.path().join("github-output"))
        .env("GITHUB_ENV", dir.path().join("github-env"))
        .env("RUNNER_TEMP", &temp)
        .env("GITHUB_ACTIONS", "true")
        .env("FAKE", &fake)
        .env("FAKE_MAX_SLEEPS", max_sleeps.to_string())
        .current_dir(dir.path())
        .output()
        .unwrap();
    let read = |p: PathBuf| std::fs::read_to_string(p).unwrap_or_default();
    let lines = |p: PathBuf| read(p).lines().map(String::from).collect::<Vec<_>>();
    let outcome = Outcome {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        summary: read(summary),
        calls: lines(fake.join("calls")),
        sleeps: lines(fake.join("sleeps")),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!(
        "--- {strategy} in {env}: {}\n{}{stderr}--- summary:\n{}--- kubectl calls ({}, the last 12):\n{}",
        out.status,
        outcome.stdout,
        outcome.summary,
        outcome.calls.len(),
        outcome.calls[outcome.calls.len().saturating_sub(12)..].join("\n")
    );
    assert!(
        !fake.join("too-many-sleeps").exists(),
        "the step kept polling a state it should have decided on (see above)"
    );
    assert_eq!(
        read(fake.join("unexpected")),
        "",
        "the step made kubectl calls the fake does not know (see above)"
    );
    Some(outcome)
}

pub(crate) fn write_exe(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn namespace(env: &str) -> String {
    format!("{APP}-{env}")
}

/// `kubectl get rollouts.argoproj.io/checkout -o json` as the controller leaves it: the spec the
/// component and the overlay's rollout-patch.yaml make (the canary steps; blue-green without
/// automatic promotion in production), and `status`.
fn rollout(strategy: &str, env: &str, status: &str) -> String {
    // The overlays' pauses (rollout-patch.yaml): 30s each in dev, 1m then 2m in staging, 2m in
    // production.
    let pauses = match env {
        "dev" => ["30s", "30s", "30s"],
        "staging" => ["1m", "2m", "2m"],
        _ => ["2m", "2m", "2m"],
    };
    let strategy = match strategy {
        "canary" => format!(
            r#"{{"canary": {{"maxSurge": "25%", "maxUnavailable": 0, "abortScaleDownDelaySeconds": 30,
            "analysis": {{"startingStep": 1, "templates": [{{"templateName": "checkout-success-rate"}}, {{"templateName": "checkout-latency"}}]}},
            "steps": [{{"setWeight": 25}}, {{"pause": {{"duration": "{}"}}}}, {{"setWeight": 50}}, {{"pause": {{"duration": "{}"}}}},
                      {{"setWeight": 75}}, {{"pause": {{"duration": "{}"}}}}]}}}}"#,
            pauses[0], pauses[1], pauses[2]
        ),
        _ => format!(
            r#"{{"blueGreen": {{"activeService": "checkout", "previewService": "checkout-preview",
            "autoPromotionEnabled": {}, "scaleDownDelaySeconds": 300, "abortScaleDownDelaySeconds": 30,
            "prePromotionAnalysis": {{"templates": [{{"templateName": "checkout-smoke"}}, {{"templateName": "checkout-success-rate"}}, {{"templateName": "checkout-latency"}}]}},
            "postPromotionAnalysis": {{"templates": [{{"templateName": "checkout-success-rate"}}, {{"templateName": "checkout-latency"}}]}}}}}}"#,
            env != "production"
        ),
    };
    format!(
        r#"{{
  "apiVersion": "argoproj.io/v1alpha1",
  "kind": "Rollout",
  "metadata": {{"name": "checkout", "namespace": "{ns}", "generation": 7, "resourceVersion": "918273",
    "uid": "3b1f0c2e-8a4d-4c6b-9e7f-1a2b3c4d5e6f", "creationTimestamp": "2025-05-02T09:12:44Z"}},
  "spec": {{
    "workloadRef": {{"apiVersion": "apps/v1", "kind": "Deployment", "name": "checkout", "scaleDown": "never"}},
    "selector": {{"matchLabels": {{"app.kubernetes.io/name": "checkout"}}}},
    "revisionHistoryLimit": 5, "progressDeadlineSeconds": 600, "progressDeadlineAbort": true,
    "strategy": {strategy}
  }},
  "status": {status}
}}"#,
        ns = namespace(env)
    )
}

/// `kubectl get replicasets -l app.kubernetes.io/name=checkout,rollouts-pod-template-hash=<hash>
/// -o json`: the Rollout's ReplicaSet running `digest`, with `available` of `replicas` pods.
fn replicaset(
    env: &str,
    hash: &'static str,
    digest: &str,
    replicas: u32,
    available: u32,
) -> (&'static str, String) {
    let json = format!(
        r#"{{
  "apiVersion": "v1",
  "kind": "List",
  "metadata": {{"resourceVersion": ""}},
  "items": [{{
    "apiVersion": "apps/v1",
    "kind": "ReplicaSet",
    "metadata": {{
      "name": "checkout-{hash}", "namespace": "{ns}",
      "labels": {{"app.kubernetes.io/name": "checkout", "rollouts-pod-template-hash": "{hash}"}},
      "annotations": {{"rollout.argoproj.io/revision": "3", "rollout.argoproj.io/desired-replicas": "{replicas}"}},
      "ownerReferences": [{{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "checkout",
        "uid": "3b1f0c2e-8a4d-4c6b-9e7f-1a2b3c4d5e6f", "controller": true, "blockOwnerDeletion": true}}]
    }},
    "spec": {{
      "replicas": {replicas},
      "selector": {{"matchLabels": {{"app.kubernetes.io/name": "checkout", "rollouts-pod-template-hash": "{hash}"}}}},
      "template": {{
        "metadata": {{"labels": {{"app.kubernetes.io/name": "checkout", "rollouts-pod-template-hash": "{hash}"}}}},
        "spec": {{"serviceAccountName": "checkout", "containers": [{{"name": "checkout", "image": "{IMAGE}@{digest}",
          "ports": [{{"name": "http", "containerPort": 8080, "protocol": "TCP"}}]}}]}}
      }}
    }},
    "status": {{"replicas": {replicas}, "fullyLabeledReplicas": {replicas}, "readyReplicas": {available},
      "availableReplicas": {available}, "observedGeneration": 2}}
  }}]
}}"#,
        ns = namespace(env)
    );
    (hash, json)
}

/// `kubectl get deployment checkout -o json`: the workloadRef'd Deployment (no pods of its own)
/// with the image CI last committed.
fn deployment(env: &str, digest: &str) -> String {
    format!(
        r#"{{
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": {{"name": "checkout", "namespace": "{ns}", "generation": 9, "labels": {{"app.kubernetes.io/name": "checkout"}}}},
  "spec": {{
    "replicas": 0,
    "selector": {{"matchLabels": {{"app.kubernetes.io/name": "checkout"}}}},
    "template": {{
      "metadata": {{"labels": {{"app.kubernetes.io/name": "checkout"}}}},
      "spec": {{"serviceAccountName": "checkout", "containers": [{{"name": "checkout", "image": "{IMAGE}@{digest}"}}]}}
    }}
  }},
  "status": {{"observedGeneration": 9}}
}}"#,
        ns = namespace(env)
    )
}

fn assert_has(what: &str, text: &str, needle: &str) {
    assert!(text.contains(needle), "{what} lacks `{needle}`:\n{text}");
}

#[test]
fn healthy_canary_passes_after_polling() {
    let env = "dev";
    let cluster = Cluster {
        rollouts: vec![
            // The controller has not seen the new pod template yet.
            rollout(
                "canary",
                env,
                &format!(
                    r#"{{"phase": "Healthy", "currentPodHash": "{OLD_HASH}", "stableRS": "{OLD_HASH}",
                    "currentStepIndex": 6, "currentStepHash": "6f7d9c8b5", "observedGeneration": "6",
                    "replicas": 4, "updatedReplicas": 4, "readyReplicas": 4, "availableReplicas": 4,
                    "selector": "app.kubernetes.io/name=checkout", "canary": {{}}}}"#
                ),
            ),
            rollout(
                "canary",
                env,
                &format!(
                    r#"{{"phase": "Paused", "message": "CanaryPauseStep", "currentPodHash": "{NEW_HASH}",
                    "stableRS": "{OLD_HASH}", "currentStepIndex": 1, "currentStepHash": "6f7d9c8b5",
                    "observedGeneration": "7", "controllerPause": true,
                    "pauseConditions": [{{"reason": "CanaryPauseStep", "startTime": "2025-05-02T10:01:07Z"}}],
                    "replicas": 5, "updatedReplicas": 1, "readyReplicas": 5, "availableReplicas": 5,
                    "canary": {{"currentBackgroundAnalysisRunStatus": {{"name": "checkout-{NEW_HASH}-3", "status": "Running"}}}}}}"#
                ),
            ),
            rollout(
                "canary",
                env,
                &format!(
                    r#"{{"phase": "Healthy", "currentPodHash": "{NEW_HASH}", "stableRS": "{NEW_HASH}",
                    "currentStepIndex": 6, "currentStepHash": "6f7d9c8b5", "observedGeneration": "7",
                    "replicas": 4, "updatedReplicas": 4, "readyReplicas": 4, "availableReplicas": 4,
                    "selector": "app.kubernetes.io/name=checkout",
                    "conditions": [{{"type": "Healthy", "status": "True", "reason": "RolloutHealthy",
                      "message": "Rollout is healthy", "lastTransitionTime": "2025-05-02T10:04:41Z", "lastUpdateTime": "2025-05-02T10:04:41Z"}}],
                    "canary": {{"currentBackgroundAnalysisRunStatus": {{"name": "checkout-{NEW_HASH}-3", "status": "Successful"}}}}}}"#
                ),
            ),
        ],
        replicasets: vec![
            replicaset(env, OLD_HASH, OLD_DIGEST, 4, 4),
            replicaset(env, NEW_HASH, DIGEST, 4, 4),
        ],
        deployment: deployment(env, DIGEST),
        analysisruns: "",
    };
    let Some(o) = run_step("canary", env, "25m", 10, &cluster) else {
        return;
    };
    assert!(o.success, "a healthy canary must pass");
    assert_eq!(
        o.summary,
        format!("checkout-dev/checkout serves {DIGEST} from ReplicaSet {NEW_HASH}\n")
    );
    assert!(!o.stdout.contains("::error::"), "{}", o.stdout);
    assert_has(
        "output",
        &o.stdout,
        "checkout-dev/checkout: phase=Paused step=1",
    );
    // Three reads of the Rollout, 15 seconds apart; the Deployment only while the image differed.
    assert_eq!(o.sleeps, ["15", "15"]);
    let rollout_reads = o
        .calls
        .iter()
        .filter(|c| c.contains(" rollouts.argoproj.io/"))
        .count();
    assert_eq!(rollout_reads, 3, "{:?}", o.calls);
    assert_eq!(
        o.calls
            .iter()
            .filter(|c| c.contains(" deployment "))
            .count(),
        1,
        "{:?}",
        o.calls
    );
}

#[test]
fn healthy_blue_green_passes() {
    let env = "staging";
    let cluster = Cluster {
        rollouts: vec![rollout(
            "blue-green",
            env,
            &format!(
                r#"{{"phase": "Healthy", "currentPodHash": "{NEW_HASH}", "stableRS": "{NEW_HASH}",
                "observedGeneration": "7", "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3,
                "blueGreen": {{"activeSelector": "{NEW_HASH}", "previewSelector": "{NEW_HASH}",
                  "prePromotionAnalysisRunStatus": {{"name": "checkout-{NEW_HASH}-3-pre", "status": "Successful"}},
                  "postPromotionAnalysisRunStatus": {{"name": "checkout-{NEW_HASH}-3-post", "status": "Successful"}}}}}}"#
            ),
        )],
        replicasets: vec![replicaset(env, NEW_HASH, DIGEST, 3, 3)],
        deployment: deployment(env, DIGEST),
        analysisruns: "",
    };
    let Some(o) = run_step("blue-green", env, "25m", 10, &cluster) else {
        return;
    };
    assert!(o.success, "a healthy blue-green Rollout must pass");
    assert_eq!(
        o.summary,
        format!("checkout-staging/checkout serves {DIGEST} from ReplicaSet {NEW_HASH}\n")
    );
    assert!(o.sleeps.is_empty());
}

#[test]
fn aborted_canary_fails_with_the_commands() {
    let env = "staging";
    let cluster = Cluster {
        rollouts: vec![rollout(
            "canary",
            env,
            &format!(
                r#"{{"phase": "Degraded", "abort": true, "abortedAt": "2025-05-02T10:03:12Z",
                "message": "RolloutAborted: Rollout aborted update to revision 3: Metric \"success-rate\" assessed Failed due to failed (1) > failureLimit (0)",
                "currentPodHash": "{NEW_HASH}", "stableRS": "{OLD_HASH}", "currentStepIndex": 0,
                "currentStepHash": "6f7d9c8b5", "observedGeneration": "7",
                "replicas": 4, "updatedReplicas": 0, "readyReplicas": 4, "availableReplicas": 4,
                "conditions": [{{"type": "Progressing", "status": "False", "reason": "RolloutAborted",
                  "message": "Rollout aborted update to revision 3", "lastTransitionTime": "2025-05-02T10:03:12Z", "lastUpdateTime": "2025-05-02T10:03:12Z"}}],
                "canary": {{"currentBackgroundAnalysisRunStatus": {{"name": "checkout-{NEW_HASH}-3", "status": "Failed",
                  "message": "Metric \"success-rate\" assessed Failed due to failed (1) > failureLimit (0)"}}}}}}"#
            ),
        )],
        replicasets: vec![
            replicaset(env, OLD_HASH, OLD_DIGEST, 4, 4),
            replicaset(env, NEW_HASH, DIGEST, 0, 0),
        ],
        deployment: deployment(env, DIGEST),
        analysisruns: "NAME                    STATUS   AGE\ncheckout-5f6d8c9b7d-3   Failed   2m14s\n",
    };
    let Some(o) = run_step("canary", env, "25m", 10, &cluster) else {
        return;
    };
    assert!(!o.success, "an aborted canary must fail the job");
    let error = o
        .stdout
        .lines()
        .find(|l| l.starts_with("::error::"))
        .unwrap_or_else(|| panic!("no ::error:: line:\n{}", o.stdout));
    for needle in [
        "checkout-staging/checkout: the update to ",
        "(phase Degraded, aborted=true)",
        "assessed Failed",
        "'kubectl argo rollouts get rollout checkout -n checkout-staging'",
        "'kubectl argo rollouts abort checkout -n checkout-staging'",
        "'kubectl argo rollouts retry rollout checkout -n checkout-staging'",
        "'kubectl get analysisruns -n checkout-staging'",
        "rollback workflow",
    ] {
        assert_has("the ::error::", error, needle);
    }
    // The failed AnalysisRun of the new ReplicaSet is listed after the error.
    assert_has("output", &o.stdout, "checkout-5f6d8c9b7d-3   Failed");
    assert!(o.calls.contains(&format!(
        "-n checkout-staging get analysisruns.argoproj.io -l rollouts-pod-template-hash={NEW_HASH}"
    )));
    assert_eq!(o.summary, "");
}

#[test]
fn blue_green_production_waits_for_a_person() {
    let env = "production";
    let cluster = Cluster {
        rollouts: vec![rollout(
            "blue-green",
            env,
            &format!(
                r#"{{"phase": "Paused", "message": "BlueGreenPause", "controllerPause": true,
                "pauseConditions": [{{"reason": "BlueGreenPause", "startTime": "2025-05-02T10:06:30Z"}}],
                "currentPodHash": "{NEW_HASH}", "stableRS": "{OLD_HASH}", "observedGeneration": "7",
                "replicas": 6, "updatedReplicas": 3, "readyReplicas": 6, "availableReplicas": 6,
                "blueGreen": {{"activeSelector": "{OLD_HASH}", "previewSelector": "{NEW_HASH}",
                  "prePromotionAnalysisRunStatus": {{"name": "checkout-{NEW_HASH}-3-pre", "status": "Successful"}}}}}}"#
            ),
        )],
        replicasets: vec![
            replicaset(env, OLD_HASH, OLD_DIGEST, 3, 3),
            replicaset(env, NEW_HASH, DIGEST, 3, 3),
        ],
        deployment: deployment(env, DIGEST),
        analysisruns: "",
    };
    let Some(o) = run_step("blue-green", env, "25m", 10, &cluster) else {
        return;
    };
    assert!(o.success, "a preview waiting for promotion ends CI's part");
    assert_has(
        "the step summary",
        &o.summary,
        &format!(
            "### checkout-production: {DIGEST} is ready in the preview, waiting for promotion"
        ),
    );
    assert_has(
        "the step summary",
        &o.summary,
        "A person must promote it:\n\n    kubectl argo rollouts promote checkout -n checkout-production\n",
    );
    assert_has(
        "the step summary",
        &o.summary,
        &format!("checkout still serves ReplicaSet {OLD_HASH}"),
    );
    assert_has(
        "output",
        &o.stdout,
        "::notice::checkout-production/checkout: preview of ",
    );
    assert!(!o.stdout.contains("::error::"), "{}", o.stdout);
}

#[test]
fn superseded_deploy_passes_with_a_notice() {
    let env = "staging";
    let cluster = Cluster {
        // A newer run's commit reached the cluster first: the Rollout is on its ReplicaSet.
        rollouts: vec![rollout(
            "blue-green",
            env,
            &format!(
                r#"{{"phase": "Progressing", "message": "more replicas need to be updated",
                "currentPodHash": "{NEWER_HASH}", "stableRS": "{OLD_HASH}", "observedGeneration": "8",
                "replicas": 6, "updatedReplicas": 1, "readyReplicas": 4, "availableReplicas": 4,
                "blueGreen": {{"activeSelector": "{OLD_HASH}", "previewSelector": "{NEWER_HASH}"}}}}"#
            ),
        )],
        replicasets: vec![
            replicaset(env, OLD_HASH, OLD_DIGEST, 3, 3),
            replicaset(env, NEWER_HASH, NEWER_DIGEST, 3, 1),
        ],
        deployment: deployment(env, NEWER_DIGEST),
        analysisruns: "",
    };
    let Some(o) = run_step("blue-green", env, "25m", 10, &cluster) else {
        return;
    };
    assert!(o.success, "a superseded deploy is not a failure");
    assert_has(
        "output",
        &o.stdout,
        &format!(
            "::notice::checkout-staging/checkout now runs {IMAGE}@{NEWER_DIGEST}: a newer deploy replaced {DIGEST}."
        ),
    );
    assert!(!o.stdout.contains("::error::"), "{}", o.stdout);
    assert_eq!(o.summary, "");
    assert!(o.sleeps.is_empty());
}

#[test]
fn stuck_canary_times_out() {
    let env = "production";
    // Waiting at an indefinite pause forever: the (fake, instant) sleeps go on until the deadline.
    let cluster = Cluster {
        rollouts: vec![rollout(
            "canary",
            env,
            &format!(
                r#"{{"phase": "Paused", "message": "CanaryPauseStep", "controllerPause": true,
                "pauseConditions": [{{"reason": "CanaryPauseStep", "startTime": "2025-05-02T10:01:07Z"}}],
                "currentPodHash": "{NEW_HASH}", "stableRS": "{OLD_HASH}", "currentStepIndex": 1,
                "currentStepHash": "6f7d9c8b5", "observedGeneration": "7",
                "replicas": 5, "updatedReplicas": 1, "readyReplicas": 5, "availableReplicas": 5,
                "canary": {{"currentBackgroundAnalysisRunStatus": {{"name": "checkout-{NEW_HASH}-3", "status": "Running"}}}}}}"#
            ),
        )],
        replicasets: vec![
            replicaset(env, OLD_HASH, OLD_DIGEST, 4, 4),
            replicaset(env, NEW_HASH, DIGEST, 1, 1),
        ],
        deployment: deployment(env, DIGEST),
        analysisruns: "",
    };
    let Some(o) = run_step("canary", env, "2s", 100_000, &cluster) else {
        return;
    };
    assert!(
        !o.success,
        "a Rollout that never finishes must fail the job"
    );
    let error = o
        .stdout
        .lines()
        .find(|l| l.starts_with("::error::"))
        .unwrap_or_else(|| panic!("no ::error:: line:\n{}", o.stdout));
    for needle in [
        "checkout-production/checkout did not finish the update to ",
        "within 2s (phase Paused, step 1, analysis -): CanaryPauseStep.",
        "'kubectl argo rollouts get rollout checkout -n checkout-production'",
        "'kubectl argo rollouts promote checkout -n checkout-production' moves it on",
        "'kubectl argo rollouts abort checkout -n checkout-production'",
    ] {
        assert_has("the ::error::", error, needle);
    }
    // It kept polling (every read 15s apart) and printed the unchanged state once.
    assert!(
        !o.sleeps.is_empty() && o.sleeps.iter().all(|s| s == "15"),
        "{:?}",
        o.sleeps
    );
    assert_eq!(
        o.stdout.matches("phase=Paused step=1").count(),
        1,
        "{}",
        o.stdout
    );
    assert_eq!(o.summary, "");
}
