//! Behaviour of the shared deploy scripts in a scaffold's `ci/` (templates/ci/, and
//! templates/_rollout/<strategy>/verify-rollout.sh.j2 for `ci/verify-rollout.sh`), which the GitHub
//! workflows' deploy and rollback jobs run as `run: bash ci/<script>.sh` and GitLab's jobs call
//! too. Each test writes the rendered scripts (and, where a script reads them, the overlays, in a
//! real Git checkout whose origin is a local bare repository) into a temp dir and runs one script
//! with bash and only the job's environment: GITHUB_ACTIONS=true with GitHub's files, or
//! GITLAB_CI=true. Fakes: `kubectl` answers from Argo Rollouts status fixtures, `sleep` returns at
//! once, `kustomize` edits the image reference, `cosign` records its arguments. Needs bash, jq and
//! git (see `tool`).

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_fs::TempDir;
use infra_new::render::Tree;

use crate::snapshots::tree_with;
use crate::validators::{tool, write_tree};

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

/// Answers the scripts' reads from the files in $FAKE; records every call in $FAKE/calls and the
/// ones it does not know in $FAKE/unexpected (then fails, as kubectl would).
const FAKE_KUBECTL: &str = r#"#!/usr/bin/env bash
set -euo pipefail
printf '%s\n' "$*" >> "$FAKE/calls"
ns="${APP}-${TARGET_ENV}"
# The n-th line of file $1 answers the n-th read counted in $2; the last line every later read.
nth() {
  echo . >> "$2"
  n=$(wc -l < "$2")
  total=$(wc -l < "$1")
  sed -n "$(( n < total ? n : total ))p" "$1"
}
case "$*" in
  "-n $ns get rollouts.argoproj.io/$APP -o json")
    # rollout-<n>.json answers the n-th read; the last one answers every later read.
    echo . >> "$FAKE/rollout-reads"
    n=$(wc -l < "$FAKE/rollout-reads")
    last=$(find "$FAKE" -maxdepth 1 -name 'rollout-*.json' | wc -l)
    if (( last == 0 )); then
      echo "Error from server (NotFound): rollouts.argoproj.io \"$APP\" not found" >&2
      exit 1
    fi
    cat "$FAKE/rollout-$(( n < last ? n : last )).json" ;;
  "-n $ns get replicasets -l app.kubernetes.io/name=$APP,rollouts-pod-template-hash="*" -o json")
    hash="${6##*=}"
    if [[ -f "$FAKE/rs-$hash.json" ]]; then cat "$FAKE/rs-$hash.json"
    else echo '{"apiVersion":"v1","items":[],"kind":"List","metadata":{"resourceVersion":""}}'; fi ;;
  "-n $ns get deployment $APP -o json")
    cat "$FAKE/deployment.json" ;;
  "-n $ns get deployment $APP -o jsonpath={.spec.template.spec.containers[?(@.name==\"$APP\")].image}")
    nth "$FAKE/deployment-images" "$FAKE/image-reads" | tr -d '\n' ;;
  "-n $ns get analysisruns.argoproj.io -l rollouts-pod-template-hash="*)
    cat "$FAKE/analysisruns.txt" ;;
  "-n $ns patch rollouts.argoproj.io/$APP --subresource=status --type=merge --patch "*)
    echo "rollout.argoproj.io/$APP patched" ;;
  *)
    printf '%s\n' "$*" >> "$FAKE/unexpected"
    echo "error: fake kubectl has no answer for: kubectl $*" >&2
    exit 1 ;;
esac
"#;

/// Returns at once and records the seconds asked for; fails the script after $FAKE_MAX_SLEEPS, so
/// a script that never decides ends instead of polling until its real timeout.
const FAKE_SLEEP: &str = r#"#!/usr/bin/env bash
set -euo pipefail
printf '%s\n' "$*" >> "$FAKE/sleeps"
if (( $(wc -l < "$FAKE/sleeps") > FAKE_MAX_SLEEPS )); then
  echo "fake sleep: still polling after ${FAKE_MAX_SLEEPS} sleeps" | tee "$FAKE/too-many-sleeps" >&2
  exit 1
fi
"#;

/// `kustomize edit set image NAME@DIGEST` in an overlay directory puts the digest on the image's
/// entry (dropping its tag), as kustomize does; `kustomize build DIR` succeeds when DIR has a
/// kustomization. Records every call.
const FAKE_KUSTOMIZE: &str = r#"#!/usr/bin/env bash
set -euo pipefail
printf '%s\n' "$*" >> "$FAKE/kustomize-calls"
case "$1 $2" in
  "edit set")
    ref="$4"
    sed -i -E -e '/^  (newTag|digest):/d' \
      -e "s|^- name: \"?${ref%@*}\"?\$|&\n  digest: ${ref#*@}|" kustomization.yaml
    grep -qF "digest: ${ref#*@}" kustomization.yaml ;;
  "build "*)
    test -f "$2/kustomization.yaml" ;;
  *)
    echo "fake kustomize has no answer for: kustomize $*" >&2
    exit 1 ;;
esac
"#;

/// Records its arguments; `verify` succeeds.
const FAKE_COSIGN: &str = r#"#!/usr/bin/env bash
set -euo pipefail
printf '%s\n' "$@" > "$FAKE/cosign-args"
[[ "$1" == verify ]]
"#;

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The indentation of a step's keys and its lines after `- name: <step>`.
fn step_body<'a>(workflow: &'a str, step: &str) -> (usize, Vec<&'a str>) {
    let lines: Vec<&str> = workflow.lines().collect();
    let header = format!("- name: {step}");
    let start = lines
        .iter()
        .position(|l| l.trim_start() == header)
        .unwrap_or_else(|| panic!("no step `{step}` in the workflow"));
    let key = indent(lines[start]) + 2;
    let body = lines[start + 1..]
        .iter()
        .take_while(|l| l.trim().is_empty() || indent(l) >= key)
        .copied()
        .collect();
    (key, body)
}

/// The one-line `run:` command of a step.
fn step_command(workflow: &str, step: &str) -> String {
    let (key, body) = step_body(workflow, step);
    body.iter()
        .filter(|l| indent(l) == key)
        .find_map(|l| l.trim_start().strip_prefix("run: "))
        .unwrap_or_else(|| panic!("step `{step}` has no one-line `run:`"))
        .to_string()
}

pub(crate) fn write_exe(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Platform {
    Github,
    Gitlab,
}

/// The outcome of one script run.
struct Run {
    success: bool,
    stdout: String,
    stderr: String,
    /// KEY=VALUE lines the script wrote as outputs ($GITHUB_OUTPUT, or GitLab's dotenv file).
    outputs: Vec<(String, String)>,
    /// What it wrote to $GITHUB_STEP_SUMMARY (always empty on GitLab, where it goes to the log).
    summary: String,
    /// kubectl's calls, and the seconds of every sleep.
    calls: Vec<String>,
    sleeps: Vec<String>,
}

impl Run {
    fn output(&self, key: &str) -> Option<&str> {
        self.outputs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A CI job's machine: a checkout (`work`, the scripts' working directory), the fakes on PATH, and
/// the platform's environment.
struct Job {
    dir: TempDir,
    work: PathBuf,
    fake: PathBuf,
    platform: Platform,
    max_sleeps: u32,
}

impl Job {
    /// A job on `platform` whose checkout holds `tree`'s ci/ and deploy/ (not a Git repository:
    /// `with_origin` makes one). `None` when bash, jq or git is missing and not required.
    fn new(platform: Platform, tree: &Tree) -> Option<Job> {
        let (Some(_), Some(_), Some(_)) = (tool("bash"), tool("jq"), tool("git")) else {
            return None;
        };
        let dir = TempDir::new().unwrap();
        let work = dir.path().join("work");
        let fake = dir.path().join("fake");
        let bin = dir.path().join("bin");
        for d in [&work, &fake, &bin, &dir.path().join("tmp")] {
            std::fs::create_dir(d).unwrap();
        }
        write_exe(&bin.join("kubectl"), FAKE_KUBECTL);
        write_exe(&bin.join("sleep"), FAKE_SLEEP);
        write_exe(&bin.join("kustomize"), FAKE_KUSTOMIZE);
        write_exe(&bin.join("cosign"), FAKE_COSIGN);
        write_tree(&work, tree, |p| {
            p.starts_with("ci/") || p.starts_with("deploy/kubernetes/")
        });
        Some(Job {
            dir,
            work,
            fake,
            platform,
            max_sleeps: 10,
        })
    }

    /// Makes `work` a clone of a bare repository `origin.git` whose main holds the files `work`
    /// had, committed as "initial", as actions/checkout does with fetch-depth 0.
    fn with_origin(self) -> Job {
        let origin = self.dir.path().join("origin.git");
        let seed = self.dir.path().join("seed");
        self.git(
            self.dir.path(),
            &["init", "--quiet", "--bare", "-b", "main", "origin.git"],
        );
        // As GitLab does: accept push options, and (for the tests) record those of CI's pushes.
        self.git(&origin, &["config", "receive.advertisePushOptions", "true"]);
        write_exe(
            &origin.join("hooks/pre-receive"),
            "#!/usr/bin/env bash\n[[ -n \"${FAKE:-}\" ]] || exit 0\nfor ((i = 0; i < ${GIT_PUSH_OPTION_COUNT:-0}; i++)); do\n  v=\"GIT_PUSH_OPTION_$i\"\n  echo \"${!v}\" >> \"$FAKE/push-options\"\ndone\n",
        );
        std::fs::rename(&self.work, &seed).unwrap();
        self.git(&seed, &["init", "--quiet", "-b", "main"]);
        self.git(&seed, &["add", "--all"]);
        self.git(&seed, &["commit", "--quiet", "-m", "initial"]);
        self.git(
            &seed,
            &["remote", "add", "origin", origin.to_str().unwrap()],
        );
        self.git(&seed, &["push", "--quiet", "origin", "main"]);
        self.clone_work();
        self
    }

    /// A fresh clone of origin as the job's checkout.
    fn clone_work(&self) {
        if self.work.exists() {
            std::fs::remove_dir_all(&self.work).unwrap();
        }
        self.git(
            self.dir.path(),
            &["clone", "--quiet", "--branch", "main", "origin.git", "work"],
        );
    }

    /// A commit on origin's main made by someone else (through `seed`): `edit` changes the files
    /// under seed/, then everything is committed with `message` and pushed. Returns the commit.
    fn push_to_origin(&self, message: &str, edit: impl FnOnce(&Path)) -> String {
        let seed = self.dir.path().join("seed");
        self.git(&seed, &["pull", "--quiet", "--rebase", "origin", "main"]);
        edit(&seed);
        self.git(&seed, &["add", "--all"]);
        self.git(
            &seed,
            &["commit", "--quiet", "--allow-empty", "-m", message],
        );
        self.git(&seed, &["push", "--quiet", "origin", "HEAD:main"]);
        self.git(&seed, &["rev-parse", "HEAD"]).trim().to_string()
    }

    /// git in `dir` with a fixed identity and no user or system configuration; its stdout.
    fn git(&self, dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Dev")
            .env("GIT_AUTHOR_EMAIL", "dev@example.com")
            .env("GIT_COMMITTER_NAME", "Dev")
            .env("GIT_COMMITTER_EMAIL", "dev@example.com")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?} in {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `git show main:<path>` in origin.
    fn origin_file(&self, path: &str) -> String {
        self.git(
            &self.dir.path().join("origin.git"),
            &["show", &format!("main:{path}")],
        )
    }

    fn fixture(&self, name: &str, text: &str) {
        std::fs::write(self.fake.join(name), text).unwrap();
    }

    /// Runs `bash ci/<script> <args>` in the checkout with the job's environment and `env`, and
    /// nothing else: a variable a script starts to need fails here under `set -u`.
    /// `ci/resolve-rollback.sh` for environment `env` and rollback target `target`.
    fn resolve_rollback(&self, env: &str, target: &str) -> Run {
        self.run(
            "resolve-rollback.sh",
            &[],
            &[("TARGET_ENV", env), ("TARGET", target)],
        )
    }

    fn run(&self, script: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let d = self.dir.path();
        let path = std::env::join_paths(
            std::iter::once(d.join("bin"))
                .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
        )
        .unwrap();
        let mut cmd = Command::new("bash");
        cmd.arg(format!("ci/{script}"))
            .args(args)
            .env_clear()
            .env("PATH", path)
            .env("HOME", d)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("FAKE", &self.fake)
            .env("FAKE_MAX_SLEEPS", self.max_sleeps.to_string())
            .current_dir(&self.work);
        // Each run starts with empty output files (on GitLab, one job runs several scripts).
        let _ = std::fs::remove_file(d.join("github-output"));
        let _ = std::fs::remove_file(self.work.join("ci-outputs.env"));
        let outputs_file = match self.platform {
            Platform::Github => {
                std::fs::write(d.join("step-summary.md"), "").unwrap();
                cmd.env("GITHUB_ACTIONS", "true")
                    .env("GITHUB_OUTPUT", d.join("github-output"))
                    .env("GITHUB_STEP_SUMMARY", d.join("step-summary.md"))
                    .env("GITHUB_ENV", d.join("github-env"))
                    .env("RUNNER_TEMP", d.join("tmp"))
                    .env("GITHUB_SERVER_URL", "https://github.com")
                    .env("GITHUB_REPOSITORY", "acme/checkout")
                    .env("GITHUB_RUN_ID", "4242")
                    .env("GITHUB_ACTOR", "octocat");
                d.join("github-output")
            }
            Platform::Gitlab => {
                // No CI_OUTPUT_FILE: the default, ci-outputs.env in the checkout.
                cmd.env("GITLAB_CI", "true")
                    .env("CI_SERVER_URL", "https://gitlab.example.com")
                    .env("CI_PROJECT_PATH", "acme/checkout")
                    .env(
                        "CI_JOB_URL",
                        "https://gitlab.example.com/acme/checkout/-/jobs/4242",
                    )
                    .env("GITLAB_USER_LOGIN", "octocat")
                    .env("CI_JOB_TOKEN", "not-a-real-token")
                    .env("TMPDIR", d.join("tmp"));
                self.work.join("ci-outputs.env")
            }
        };
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap_or_default();
        let lines = |p: PathBuf| read(p).lines().map(String::from).collect::<Vec<_>>();
        let run = Run {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            outputs: read(outputs_file)
                .lines()
                .map(|l| {
                    let (k, v) = l.split_once('=').expect("an output line is KEY=VALUE");
                    (k.to_string(), v.to_string())
                })
                .collect(),
            summary: read(d.join("step-summary.md")),
            calls: lines(self.fake.join("calls")),
            sleeps: lines(self.fake.join("sleeps")),
        };
        eprintln!(
            "--- {script} {args:?} on {:?}: {}\n{}{}--- outputs: {:?}\n--- summary:\n{}--- kubectl calls ({}, the last 12):\n{}",
            self.platform,
            out.status,
            run.stdout,
            run.stderr,
            run.outputs,
            run.summary,
            run.calls.len(),
            run.calls[run.calls.len().saturating_sub(12)..].join("\n")
        );
        assert!(
            !self.fake.join("too-many-sleeps").exists(),
            "the script kept polling a state it should have decided on (see above)"
        );
        assert_eq!(
            read(self.fake.join("unexpected")),
            "",
            "the script made kubectl calls the fake does not know (see above)"
        );
        run
    }
}

/// The workflows call the scripts: each deploy step is `run: bash ci/<script>.sh` (the same in
/// ci.yml and rollback.yml), every script they call is rendered, and the rollback job of an Argo
/// Rollouts strategy (only) aborts an update in progress before it commits.
#[test]
fn workflows_run_the_rendered_scripts() {
    for strategy in ["rolling", "blue-green", "canary"] {
        let tree = tree_with("default", &[("rollout", strategy)]);
        let read = |path: &str| String::from_utf8(tree[path].clone()).unwrap();
        let ci = read(".github/workflows/ci.yml");
        let rollback = read(".github/workflows/rollback.yml");
        let verify = if strategy == "rolling" {
            "Rollout status".to_string()
        } else {
            format!("Wait for the Argo Rollouts {strategy} update")
        };
        for (step, command) in [
            ("Validate inputs", "bash ci/deploy.sh --validate-only"),
            (
                "Verify the image was signed by ci.yml on main",
                "bash ci/verify-signature.sh",
            ),
            ("Commit the digest and push to main", "bash ci/deploy.sh"),
            (
                "Wait for Argo CD to apply the digest",
                "bash ci/wait-for-sync.sh",
            ),
            (&verify, "bash ci/verify-rollout.sh"),
            (
                "Smoke test /healthz through port-forward",
                "bash ci/smoke-test.sh",
            ),
        ] {
            assert_eq!(step_command(&ci, step), command, "{strategy}: ci.yml");
            assert_eq!(
                step_command(&rollback, step),
                command,
                "{strategy}: rollback.yml"
            );
        }
        assert_eq!(
            step_command(&rollback, "Resolve the digest to roll back to"),
            "bash ci/resolve-rollback.sh"
        );
        let abort = "Abort an Argo Rollouts update in progress";
        assert!(!ci.contains(abort), "{strategy}: ci.yml never aborts");
        if strategy == "rolling" {
            assert!(!rollback.contains(abort));
            assert!(!tree.contains_key("ci/abort-rollout.sh"));
        } else {
            assert_eq!(step_command(&rollback, abort), "bash ci/abort-rollout.sh");
            let at = |step: &str| rollback.find(&format!("- name: {step}")).unwrap();
            assert!(at(abort) < at("Commit the digest and push to main"));
        }
        // Every script a workflow calls exists, and every script is strict bash.
        for workflow in [&ci, &rollback] {
            for called in workflow.split("bash ci/").skip(1) {
                let name = called.split_whitespace().next().unwrap();
                assert!(
                    tree.contains_key(&format!("ci/{name}")),
                    "{strategy}: ci/{name} is called but not rendered"
                );
            }
        }
        for (path, bytes) in tree
            .range("ci/".to_string()..)
            .take_while(|(p, _)| p.starts_with("ci/"))
        {
            let text = std::str::from_utf8(bytes).unwrap();
            assert!(
                text.starts_with("#!/usr/bin/env bash\n# Generated by infra-new."),
                "{path}"
            );
            if path != "ci/lib.sh" {
                assert!(
                    text.contains("\nset -euo pipefail\n# shellcheck source=ci/lib.sh\nsource \"$(dirname \"${BASH_SOURCE[0]}\")/lib.sh\"\n"),
                    "{path} does not start strict and source lib.sh"
                );
            }
        }
    }
}

/// One verify scenario's fixtures: the Rollout as it reads poll after poll, and the other objects.
struct Cluster {
    rollouts: Vec<String>,
    replicasets: Vec<(&'static str, String)>,
    deployment: String,
    analysisruns: &'static str,
}

/// Runs the `strategy`'s ci/verify-rollout.sh for `env` against `cluster` on GitHub.
fn run_step(
    strategy: &str,
    env: &str,
    timeout: &str,
    max_sleeps: u32,
    cluster: &Cluster,
) -> Option<Run> {
    run_verify(
        Platform::Github,
        strategy,
        env,
        timeout,
        max_sleeps,
        cluster,
    )
}

fn run_verify(
    platform: Platform,
    strategy: &str,
    env: &str,
    timeout: &str,
    max_sleeps: u32,
    cluster: &Cluster,
) -> Option<Run> {
    let tree = tree_with("default", &[("rollout", strategy)]);
    let mut job = Job::new(platform, &tree)?;
    job.max_sleeps = max_sleeps;
    for (i, r) in cluster.rollouts.iter().enumerate() {
        job.fixture(&format!("rollout-{}.json", i + 1), r);
    }
    for (hash, rs) in &cluster.replicasets {
        job.fixture(&format!("rs-{hash}.json"), rs);
    }
    job.fixture("deployment.json", &cluster.deployment);
    job.fixture("analysisruns.txt", cluster.analysisruns);
    check_fixtures(&job);
    // ci.yml's workflow env and the deploy job's.
    Some(job.run(
        "verify-rollout.sh",
        &[],
        &[
            ("APP", APP),
            ("IMAGE", IMAGE),
            ("TARGET_ENV", env),
            ("DIGEST", DIGEST),
            ("ROLLOUT_TIMEOUT", timeout),
        ],
    ))
}

/// A broken fixture would only look like an API hiccup to the scripts, which retry those.
fn check_fixtures(job: &Job) {
    let jq = tool("jq").unwrap();
    for f in std::fs::read_dir(&job.fake).unwrap() {
        let f = f.unwrap().path();
        if f.extension().is_some_and(|e| e == "json") {
            let ok = Command::new(&jq).args(["empty"]).arg(&f).status().unwrap();
            assert!(ok.success(), "fixture {} is not JSON", f.display());
        }
    }
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

/// The aborted canary of `aborted_canary_fails_with_the_commands` on GitLab: the same failure, told
/// as plain lines (the error on stderr) instead of GitHub's workflow commands.
#[test]
fn gitlab_gets_plain_messages() {
    let env = "staging";
    let cluster = Cluster {
        rollouts: vec![rollout(
            "canary",
            env,
            &format!(
                r#"{{"phase": "Degraded", "abort": true, "message": "RolloutAborted: Rollout aborted update to revision 3",
                "currentPodHash": "{NEW_HASH}", "stableRS": "{OLD_HASH}", "currentStepIndex": 0,
                "replicas": 4, "updatedReplicas": 0, "readyReplicas": 4, "availableReplicas": 4}}"#
            ),
        )],
        replicasets: vec![
            replicaset(env, OLD_HASH, OLD_DIGEST, 4, 4),
            replicaset(env, NEW_HASH, DIGEST, 0, 0),
        ],
        deployment: deployment(env, DIGEST),
        analysisruns: "",
    };
    let Some(o) = run_verify(Platform::Gitlab, "canary", env, "25m", 10, &cluster) else {
        return;
    };
    assert!(!o.success, "an aborted canary fails the job on GitLab too");
    let error = o
        .stderr
        .lines()
        .find(|l| l.starts_with("ERROR: "))
        .unwrap_or_else(|| panic!("no ERROR: line on stderr:\n{}", o.stderr));
    assert_has(
        "the error",
        error,
        "checkout-staging/checkout: the update to ",
    );
    assert_has("the error", error, "run the rollback workflow");
    for text in [&o.stdout, &o.stderr] {
        assert!(
            !text.contains("::error::") && !text.contains("::notice::"),
            "{text}"
        );
    }
}

/// The overlay of `env` with `digest` set on the image, as `kustomize edit set image` leaves it.
fn set_digest(root: &Path, env: &str, digest: &str) {
    let file = root.join(format!(
        "deploy/kubernetes/overlays/{env}/kustomization.yaml"
    ));
    let text = std::fs::read_to_string(&file).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if line.starts_with("  ")
            && (trimmed.starts_with("newTag:") || trimmed.starts_with("digest:"))
        {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if line == format!("- name: \"{IMAGE}\"") {
            out.push_str(&format!("  digest: {digest}\n"));
        }
    }
    assert!(
        out.contains(digest),
        "no image entry for {IMAGE} in {}",
        file.display()
    );
    std::fs::write(file, out).unwrap();
}

/// The environment of the "Commit the digest and push to main" step.
fn deploy_env<'a>(source_sha: &'a str, digest: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("TARGET_ENV", "staging"),
        ("DIGEST", digest),
        ("SOURCE_SHA", source_sha),
        ("REASON", "deploy"),
        ("IMAGE", IMAGE),
        ("GIT_PUSH_TOKEN", "not-a-real-token"),
    ]
}

/// deploy.sh against a real origin: the digest commit lands on main (rebased over a commit pushed
/// meanwhile) with the Source-Commit trailer; a later run of an older source commit leaves the
/// overlay alone.
#[test]
fn deploy_commits_the_digest_to_main() {
    let tree = tree_with("default", &[]);
    let Some(job) = Job::new(Platform::Github, &tree) else {
        return;
    };
    let job = job.with_origin();
    let older = job.push_to_origin("feat: older change", |_| {});
    let source = job.push_to_origin("feat: the change this run built", |_| {});
    job.clone_work();
    // Someone pushes to main after the job's checkout: the first push is rejected.
    let other = job.push_to_origin("docs: unrelated", |seed| {
        std::fs::write(seed.join("NOTES.md"), "unrelated\n").unwrap();
    });

    let o = job.run("deploy.sh", &[], &deploy_env(&source, DIGEST));
    assert!(o.success, "the deploy must succeed");
    assert_eq!(o.output("changed"), Some("true"));
    assert!(
        !job.fake.join("push-options").exists(),
        "GitHub pushes without options"
    );
    assert_eq!(
        o.sleeps,
        ["5"],
        "one rejected push, one retry after a rebase"
    );
    let file = "deploy/kubernetes/overlays/staging/kustomization.yaml";
    let overlay = job.origin_file(file);
    assert_has("main's overlay", &overlay, &format!("  digest: {DIGEST}\n"));
    assert!(!overlay.contains("newTag:"), "{overlay}");
    let origin = job.dir.path().join("origin.git");
    let message = job.git(&origin, &["log", "-1", "--format=%B", "main"]);
    assert_eq!(
        message.lines().next().unwrap(),
        format!("deploy(staging): {IMAGE}@{} [skip ci]", &DIGEST[..19])
    );
    for needle in [
        &format!("Set {IMAGE} to {DIGEST} in {file}."),
        "Workflow-Run: https://github.com/acme/checkout/actions/runs/4242",
        "Triggered-By: octocat",
        &format!("Source-Commit: {source}"),
    ] {
        assert_has("the commit message", &message, needle);
    }
    assert_eq!(
        job.git(&origin, &["log", "-1", "--format=%an <%ae>", "main"])
            .trim(),
        "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
    );
    // Rebased onto the other push, and only the overlay changed.
    assert_eq!(job.git(&origin, &["rev-parse", "main~1"]).trim(), other);
    assert_eq!(
        job.git(&origin, &["diff", "--name-only", "main~1", "main"])
            .trim(),
        file
    );
    let head = job.git(&origin, &["rev-parse", "main"]);
    assert_eq!(
        o.summary,
        format!("Pushed {}: staging -> {DIGEST}\n", head.trim())
    );

    // A slow run of the older commit comes later: it must not roll staging back.
    job.clone_work();
    let o = job.run("deploy.sh", &[], &deploy_env(&older, NEWER_DIGEST));
    assert!(o.success, "an out-of-order deploy is not a failure");
    assert_eq!(o.output("changed"), Some("false"));
    assert_has(
        "output",
        &o.stdout,
        &format!(
            "::notice::staging already runs a build of newer commit {source}; leaving it alone."
        ),
    );
    assert_eq!(job.git(&origin, &["rev-parse", "main"]), head);
    assert_has("main's overlay", &job.origin_file(file), DIGEST);

    // The same digest again: nothing to commit.
    job.clone_work();
    let o = job.run("deploy.sh", &[], &deploy_env(&source, DIGEST));
    assert!(o.success);
    assert_eq!(o.output("changed"), Some("false"));
    assert_has(
        "output",
        &o.stdout,
        &format!("::notice::staging already points at {DIGEST}."),
    );
    assert_eq!(job.git(&origin, &["rev-parse", "main"]), head);
}

/// GitLab: the commit names GitLab CI and the job, the push asks for no pipeline, and the output
/// lands in the dotenv file.
#[test]
fn deploy_on_gitlab() {
    let tree = tree_with("default", &[]);
    let Some(job) = Job::new(Platform::Gitlab, &tree) else {
        return;
    };
    let job = job.with_origin();
    let source = job.push_to_origin("feat: a change", |_| {});
    job.clone_work();
    let o = job.run("deploy.sh", &[], &deploy_env(&source, DIGEST));
    assert!(o.success, "the deploy must succeed on GitLab");
    assert_eq!(
        std::fs::read_to_string(job.work.join("ci-outputs.env")).unwrap(),
        "changed=true\n"
    );
    assert_has("the job log", &o.stdout, "Pushed ");
    assert_eq!(
        std::fs::read_to_string(job.fake.join("push-options")).unwrap(),
        "ci.skip\n",
        "GitLab must start no pipeline for the digest commit"
    );
    let origin = job.dir.path().join("origin.git");
    assert_eq!(
        job.git(&origin, &["log", "-1", "--format=%an <%ae>", "main"])
            .trim(),
        "GitLab CI <gitlab-ci@gitlab.example.com>"
    );
    let message = job.git(&origin, &["log", "-1", "--format=%B", "main"]);
    assert_has(
        "the commit message",
        &message,
        "Workflow-Run: https://gitlab.example.com/acme/checkout/-/jobs/4242",
    );
    assert_has(
        "the commit message",
        &message,
        &format!("Source-Commit: {source}"),
    );
}

/// Bad inputs stop deploy.sh before it touches anything (`--validate-only` is the first step).
#[test]
fn deploy_validates_its_inputs() {
    let tree = tree_with("default", &[]);
    let Some(job) = Job::new(Platform::Github, &tree) else {
        return;
    };
    let full = "0123456789abcdef0123456789abcdef01234567";
    for (env, digest, source, reason, error) in [
        ("qa", DIGEST, full, "deploy", "unknown environment 'qa'"),
        (
            "dev",
            DIGEST,
            full,
            "redeploy",
            "reason must be deploy or rollback",
        ),
        (
            "dev",
            "sha256:abc",
            full,
            "deploy",
            "digest must look like sha256:<64 hex>",
        ),
        (
            "dev",
            DIGEST,
            "0123456",
            "deploy",
            "source-sha must be a full commit SHA",
        ),
    ] {
        let o = job.run(
            "deploy.sh",
            &["--validate-only"],
            &[
                ("TARGET_ENV", env),
                ("DIGEST", digest),
                ("SOURCE_SHA", source),
                ("REASON", reason),
            ],
        );
        assert!(!o.success, "{error}");
        assert_eq!(o.stdout, format!("::error::{error}\n"));
    }
    for source in [full, ""] {
        let o = job.run(
            "deploy.sh",
            &["--validate-only"],
            &[
                ("TARGET_ENV", "production"),
                ("DIGEST", DIGEST),
                ("SOURCE_SHA", source),
                ("REASON", "rollback"),
            ],
        );
        assert!(o.success && o.stdout.is_empty(), "valid inputs pass");
    }
}

/// A production overlay history: the initial tag, then OLD_DIGEST, then DIGEST (current).
/// Returns the job and the commit that set OLD_DIGEST.
fn rollback_history(platform: Platform) -> Option<(Job, String)> {
    let tree = tree_with("default", &[]);
    let job = Job::new(platform, &tree)?.with_origin();
    let old = job.push_to_origin("deploy(production): old", |seed| {
        set_digest(seed, "production", OLD_DIGEST)
    });
    job.push_to_origin("feat: unrelated", |_| {});
    job.push_to_origin("deploy(production): current", |seed| {
        set_digest(seed, "production", DIGEST)
    });
    job.clone_work();
    Some((job, old))
}

#[test]
fn resolve_rollback_targets() {
    let Some((job, old)) = rollback_history(Platform::Github) else {
        return;
    };
    let resolve = |target: &str| job.resolve_rollback("production", target);
    for target in ["previous", &old[..7], &old, OLD_DIGEST] {
        let o = resolve(target);
        assert!(o.success, "target {target}");
        assert_eq!(
            o.outputs,
            [
                ("environment".to_string(), "production".to_string()),
                ("digest".to_string(), OLD_DIGEST.to_string())
            ],
            "target {target}"
        );
        assert_eq!(
            o.summary,
            format!(
                "### Rollback of production\n- current: `{DIGEST}`\n- target: `{OLD_DIGEST}`\n"
            )
        );
    }
    for (target, error) in [
        (
            "latest",
            "target must be previous, a commit SHA or sha256:<64 hex>",
        ),
        (DIGEST, &format!("production already runs {DIGEST}")),
        (
            "sha256:1234",
            "target must be previous, a commit SHA or sha256:<64 hex>",
        ),
        ("abcdef1", "no commit abcdef1 on main"),
    ] {
        let o = resolve(target);
        assert!(!o.success, "target {target} must fail");
        assert_eq!(o.stdout, format!("::error::{error}\n"), "target {target}");
        assert!(o.outputs.is_empty(), "no outputs for a failed resolve");
    }
    // An environment whose overlay never had a digest has nothing to roll back to.
    let o = job.resolve_rollback("dev", "previous");
    assert!(!o.success);
    assert_eq!(
        o.stdout,
        "::error::deploy/kubernetes/overlays/dev/kustomization.yaml has no earlier digest to roll back to\n"
    );
}

/// GitLab's adapter: the outputs land in the dotenv file the job publishes, the summary in the log.
#[test]
fn resolve_rollback_on_gitlab_writes_dotenv() {
    let Some((job, _)) = rollback_history(Platform::Gitlab) else {
        return;
    };
    let o = job.resolve_rollback("production", "previous");
    assert!(o.success);
    assert_eq!(
        std::fs::read_to_string(job.work.join("ci-outputs.env")).unwrap(),
        format!("environment=production\ndigest={OLD_DIGEST}\n")
    );
    assert_has(
        "the job log",
        &o.stdout,
        &format!("- target: `{OLD_DIGEST}`"),
    );
    let o = job.resolve_rollback("production", "nope");
    assert!(!o.success);
    assert_eq!(
        o.stderr,
        "ERROR: target must be previous, a commit SHA or sha256:<64 hex>\n"
    );
    assert!(!o.stdout.contains("::"), "{}", o.stdout);
}

const ABORT_PATCH: &str = r#"-n checkout-production patch rollouts.argoproj.io/checkout --subresource=status --type=merge --patch {"status":{"abort":true}}"#;

fn run_abort(platform: Platform, strategy: &str, status: Option<&str>) -> Option<Run> {
    let tree = tree_with("default", &[("rollout", strategy)]);
    let job = Job::new(platform, &tree)?;
    if let Some(status) = status {
        job.fixture("rollout-1.json", &rollout(strategy, "production", status));
    }
    check_fixtures(&job);
    Some(job.run(
        "abort-rollout.sh",
        &[],
        &[("APP", APP), ("TARGET_ENV", "production")],
    ))
}

#[test]
fn abort_rollout_aborts_an_update_in_progress() {
    // A canary paused at its first step, and a blue-green preview waiting for promotion.
    for (strategy, status) in [
        (
            "canary",
            format!(
                r#"{{"phase": "Paused", "message": "CanaryPauseStep", "currentPodHash": "{NEW_HASH}",
                "stableRS": "{OLD_HASH}", "currentStepIndex": 1}}"#
            ),
        ),
        (
            "blue-green",
            format!(
                r#"{{"phase": "Paused", "message": "BlueGreenPause", "currentPodHash": "{NEW_HASH}",
                "stableRS": "{OLD_HASH}", "blueGreen": {{"activeSelector": "{OLD_HASH}", "previewSelector": "{NEW_HASH}"}}}}"#
            ),
        ),
    ] {
        let Some(o) = run_abort(Platform::Github, strategy, Some(&status)) else {
            return;
        };
        assert!(o.success, "{strategy}");
        assert_eq!(
            o.calls,
            [
                "-n checkout-production get rollouts.argoproj.io/checkout -o json",
                ABORT_PATCH
            ],
            "{strategy}"
        );
        assert_eq!(
            o.stdout,
            format!(
                "::notice::checkout-production/checkout: aborted the update to ReplicaSet {NEW_HASH} (phase Paused); the stable ReplicaSet {OLD_HASH} takes all traffic back.\n"
            )
        );
        assert_has(
            "the step summary",
            &o.summary,
            "Aborted the update of checkout-production/checkout",
        );
    }
    // Progressing counts too, on GitLab as well.
    let status = format!(
        r#"{{"phase": "Progressing", "currentPodHash": "{NEW_HASH}", "stableRS": "{OLD_HASH}"}}"#
    );
    let Some(o) = run_abort(Platform::Gitlab, "canary", Some(&status)) else {
        return;
    };
    assert!(o.success);
    assert_eq!(o.calls.last().map(String::as_str), Some(ABORT_PATCH));
    assert_has(
        "the job log",
        &o.stdout,
        "NOTICE: checkout-production/checkout: aborted the update",
    );
}

#[test]
fn abort_rollout_leaves_a_settled_rollout_alone() {
    for (status, said) in [
        (
            format!(
                r#"{{"phase": "Healthy", "currentPodHash": "{OLD_HASH}", "stableRS": "{OLD_HASH}"}}"#
            ),
            format!(
                "no update in progress (phase Healthy, current {OLD_HASH}, stable {OLD_HASH}); nothing to abort."
            ),
        ),
        (
            format!(
                r#"{{"phase": "Degraded", "abort": true, "currentPodHash": "{NEW_HASH}", "stableRS": "{OLD_HASH}"}}"#
            ),
            format!("the update to ReplicaSet {NEW_HASH} is already aborted (phase Degraded)"),
        ),
        (
            format!(
                r#"{{"phase": "Degraded", "currentPodHash": "{NEW_HASH}", "stableRS": "{OLD_HASH}"}}"#
            ),
            format!(
                "no update in progress (phase Degraded, current {NEW_HASH}, stable {OLD_HASH})"
            ),
        ),
    ] {
        let Some(o) = run_abort(Platform::Github, "canary", Some(&status)) else {
            return;
        };
        assert!(o.success, "{status}");
        assert!(
            !o.calls.iter().any(|c| c.contains(" patch ")),
            "{:?}",
            o.calls
        );
        assert_has(
            "output",
            &o.stdout,
            &format!("checkout-production/checkout: {said}"),
        );
        assert_eq!(o.summary, "");
    }
    // An unreadable Rollout does not stop the rollback in Git.
    let Some(o) = run_abort(Platform::Github, "canary", None) else {
        return;
    };
    assert!(o.success, "the rollback goes on");
    assert_eq!(o.calls.len(), 1, "{:?}", o.calls);
    assert_has(
        "output",
        &o.stdout,
        "::notice::could not read Rollout checkout-production/checkout",
    );
}

/// wait-for-sync.sh: done once the Deployment has the digest; superseded when main's overlay (read
/// with git fetch) no longer has it.
#[test]
fn wait_for_sync_applied_or_superseded() {
    let tree = tree_with("default", &[]);
    let env = [
        ("APP", APP),
        ("TARGET_ENV", "staging"),
        ("DIGEST", DIGEST),
        ("SYNC_TIMEOUT_SECONDS", "900"),
        ("GIT_PUSH_TOKEN", "not-a-real-token"),
    ];
    // GitHub: main has the digest; the second read of the Deployment shows it applied.
    let Some(job) = Job::new(Platform::Github, &tree) else {
        return;
    };
    let job = job.with_origin();
    job.push_to_origin("deploy(staging)", |seed| {
        set_digest(seed, "staging", DIGEST)
    });
    job.fixture(
        "deployment-images",
        &format!("{IMAGE}@{OLD_DIGEST}\n{IMAGE}@{DIGEST}\n"),
    );
    let o = job.run("wait-for-sync.sh", &[], &env);
    assert!(o.success);
    assert_eq!(o.output("superseded"), Some("false"));
    assert_eq!(o.stdout, format!("Argo CD applied {IMAGE}@{DIGEST}\n"));
    assert_eq!(o.sleeps, ["20"]);

    // GitLab: a newer deploy replaced the digest on main before it was applied.
    let Some(job) = Job::new(Platform::Gitlab, &tree) else {
        return;
    };
    let job = job.with_origin();
    job.push_to_origin("deploy(staging)", |seed| {
        set_digest(seed, "staging", NEWER_DIGEST)
    });
    job.fixture("deployment-images", &format!("{IMAGE}@{OLD_DIGEST}\n"));
    let o = job.run("wait-for-sync.sh", &[], &env);
    assert!(o.success, "a superseded deploy is not a failure");
    assert_eq!(
        std::fs::read_to_string(job.work.join("ci-outputs.env")).unwrap(),
        "superseded=true\n"
    );
    assert_eq!(
        o.stdout,
        format!(
            "NOTICE: deploy/kubernetes/overlays/staging/kustomization.yaml on main no longer references {DIGEST}: a newer deploy replaced it.\n"
        )
    );
    assert!(o.sleeps.is_empty());
}

/// verify-signature.sh accepts only the pipeline on main as the signer, per platform.
#[test]
fn verify_signature_names_the_signer() {
    let tree = tree_with("default", &[]);
    for (platform, issuer, identity) in [
        (
            Platform::Github,
            "https://token.actions.githubusercontent.com",
            "https://github.com/acme/checkout/.github/workflows/ci.yml@refs/heads/main",
        ),
        (
            Platform::Gitlab,
            "https://gitlab.example.com",
            "https://gitlab.example.com/acme/checkout//.gitlab-ci.yml@refs/heads/main",
        ),
    ] {
        let Some(job) = Job::new(platform, &tree) else {
            return;
        };
        let o = job.run(
            "verify-signature.sh",
            &[],
            &[("IMAGE", IMAGE), ("DIGEST", DIGEST)],
        );
        assert!(o.success, "{platform:?}");
        assert_eq!(
            o.stdout,
            format!("Signature verified for {IMAGE}@{DIGEST}\n")
        );
        let args = std::fs::read_to_string(job.fake.join("cosign-args")).unwrap();
        assert_eq!(
            args,
            format!(
                "verify\n--certificate-oidc-issuer\n{issuer}\n--certificate-identity\n{identity}\n{IMAGE}@{DIGEST}\n"
            ),
            "{platform:?}"
        );
    }
}
