//! `cargo bench`: how long `infra-new new` takes per preset, in-process and as a whole command,
//! against `cp -r` of the same tree; then how long `infra-new upgrade` takes on a scaffold with a
//! team edit, merging a changed template set and doing nothing. Prints Markdown tables (the README
//! quotes them).
//!
//! Medians over many runs; set INFRA_NEW_BENCH_RUNS to change the count.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use clap::Parser;
use infra_new::check as checker;
use infra_new::cli::{Cli, execute};
use infra_new::plan::Plan;
use infra_new::render::{Renderer, VERSION};
use infra_new::{Answers, apply, presets, upgrade};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time(runs: usize, mut f: impl FnMut(usize)) -> Duration {
    f(usize::MAX); // warm-up
    median(
        (0..runs)
            .map(|i| {
                let start = Instant::now();
                f(i);
                start.elapsed()
            })
            .collect(),
    )
}

/// Like [`time`], with an untimed `setup` before each run whose result the run takes.
fn time_with_setup<T>(
    runs: usize,
    mut setup: impl FnMut(usize) -> T,
    mut f: impl FnMut(T),
) -> Duration {
    f(setup(usize::MAX)); // warm-up
    median(
        (0..runs)
            .map(|i| {
                let input = setup(i);
                let start = Instant::now();
                f(input);
                start.elapsed()
            })
            .collect(),
    )
}

/// The answers every benchmarked scaffold is rendered with: `preset` and a name, org and account.
fn bench_answers(preset: &str) -> Answers {
    presets::answers(
        preset,
        &[
            ("name", "checkout"),
            ("org", "acme"),
            ("account", "111122223333"),
        ],
    )
    .unwrap()
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let runs: usize = std::env::var("INFRA_NEW_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/infra-new");
    let have_bin = bin.is_file();
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::write(
        home.join(".gitconfig"),
        "[user]\n\tname = Bench\n\temail = bench@example.invalid\n",
    )
    .unwrap();

    println!(
        "| preset | files | size | render | compile + render | render + write + git commit | `infra-new new` (process) | `--no-git` (process) | `cp -r` (process) | ratio to `cp -r` |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for preset in presets::all() {
        let answers = bench_answers(&preset.name);

        let renderer = Renderer::embedded().unwrap();
        let tree = renderer.render(&answers).unwrap();
        let size: usize = tree.values().map(Vec::len).sum();

        let render = time(runs, |_| {
            std::hint::black_box(renderer.render(&answers).unwrap());
        });
        let compile_render = time(runs, |_| {
            std::hint::black_box(Renderer::embedded().unwrap().render(&answers).unwrap());
        });
        let dir = scratch.path().join(&preset.name);
        std::fs::create_dir(&dir).unwrap();
        let full = time(runs, |i| {
            let target = dir.join(format!("lib-{i}"));
            let plan = Plan::for_new(&target, renderer.render(&answers).unwrap()).unwrap();
            apply::apply_new(&plan, Some("bench")).unwrap();
        });
        // The same tree copied by cp -r, from a scaffold made without git.
        let source = dir.join("source");
        let plan = Plan::for_new(&source, tree.clone()).unwrap();
        apply::apply_new(&plan, None).unwrap();
        let cp = time(runs, |i| {
            assert!(
                Command::new("cp")
                    .arg("-r")
                    .arg(&source)
                    .arg(dir.join(format!("cp-{i}")))
                    .status()
                    .unwrap()
                    .success()
            );
        });
        let (process, process_no_git) = if have_bin {
            let run = |i: usize, extra: &[&str], tag: &str| {
                let status = Command::new(&bin)
                    .args([
                        "new",
                        "--preset",
                        &preset.name,
                        "--name",
                        "checkout",
                        "--org",
                        "acme",
                        "--account",
                        "111122223333",
                        "--yes",
                        "--non-interactive",
                    ])
                    .arg(dir.join(format!("{tag}-{i}")))
                    .args(extra)
                    .env("HOME", &home)
                    .env("GIT_CONFIG_NOSYSTEM", "1")
                    .stdout(std::process::Stdio::null())
                    .status()
                    .unwrap();
                assert!(status.success());
            };
            (
                Some(time(runs, |i| run(i, &[], "bin"))),
                Some(time(runs, |i| run(i, &["--no-git"], "bin-nogit"))),
            )
        } else {
            (None, None)
        };
        let show = |d: Option<Duration>| {
            d.map(ms)
                .unwrap_or_else(|| "(build --release first)".into())
        };
        let ratio = process_no_git.map(|p| {
            format!(
                "{:.1}× (`--no-git`), {:.1}× (with git)",
                p.as_secs_f64() / cp.as_secs_f64(),
                process.unwrap().as_secs_f64() / cp.as_secs_f64()
            )
        });
        println!(
            "| {} | {} | {:.1} KiB | {} | {} | {} | {} | {} | {} | {} |",
            preset.name,
            tree.len(),
            size as f64 / 1024.0,
            ms(render),
            ms(compile_render),
            ms(full),
            show(process),
            show(process_no_git),
            ms(cp),
            ratio.unwrap_or_else(|| "-".into())
        );
    }

    upgrade(
        runs,
        scratch.path(),
        &home,
        have_bin.then_some(bin.as_path()),
    );
    check(runs, scratch.path(), have_bin.then_some(bin.as_path()));
}

fn git(dir: &Path, home: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

fn copy(from: &Path, to: &Path) {
    assert!(
        Command::new("cp")
            .arg("-r")
            .arg(from)
            .arg(to)
            .status()
            .unwrap()
            .success()
    );
}

fn replace_once(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert_eq!(text.matches(from).count(), 1, "{}: {from}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

/// Runs the command line in-process; returns its exit code.
fn run_in_process(args: &[&str]) -> i32 {
    let cli = Cli::parse_from(std::iter::once("infra-new").chain(args.iter().copied()));
    execute(cli, &mut std::io::sink()).unwrap()
}

/// `upgrade` of the default preset's scaffold with one team commit (edits in README.md and
/// docs/troubleshooting.md): to a template set that changes docs/troubleshooting.md three lines
/// from the team's edit and docs/monitoring.md (a clean merge: one file merged, one updated), and
/// with the same templates (a no-op). Every merge run gets its own copy of the repository.
fn upgrade(runs: usize, scratch: &Path, home: &Path, bin: Option<&Path>) {
    let dir = scratch.join("upgrade");
    std::fs::create_dir(&dir).unwrap();
    let source = dir.join("source");
    let source_arg = source.display().to_string();
    // What `new` does: the render, committed with the trailer that marks it as the last render.
    let answers = bench_answers("default");
    let plan = Plan::for_new(
        &source,
        Renderer::embedded().unwrap().render(&answers).unwrap(),
    )
    .unwrap();
    let message = upgrade::render_message("Scaffold checkout", "Bench.", VERSION);
    apply::apply_new(&plan, Some(&message)).unwrap();
    // In-process commands read the identity of this process's HOME: give the repository its own.
    git(&source, home, &["config", "user.name", "Bench"]);
    git(
        &source,
        home,
        &["config", "user.email", "bench@example.invalid"],
    );
    let readme = source.join("README.md");
    let text = std::fs::read_to_string(&readme).unwrap();
    std::fs::write(&readme, format!("{text}\nTeam note.\n")).unwrap();
    replace_once(
        &source.join("docs/troubleshooting.md"),
        "## CI failed: triage",
        "## CI failed: how to triage",
    );
    git(&source, home, &["commit", "-q", "-a", "-m", "team edit"]);

    let templates = dir.join("templates");
    copy(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
        &templates,
    );
    replace_once(
        &templates.join("docs/troubleshooting.md.j2"),
        "Start here when CI fails",
        "START here when CI fails",
    );
    replace_once(
        &templates.join("docs/monitoring.md.j2"),
        "# Monitoring, SLOs and alerts",
        "# Monitoring, SLOs and alerts (next)",
    );
    let templates_arg = templates.display().to_string();

    // What is measured: one file merged with the team's edit, one updated.
    let mut report = Vec::new();
    let cli = Cli::parse_from([
        "infra-new",
        "upgrade",
        &source_arg,
        "--template-dir",
        &templates_arg,
        "--dry-run",
        "--format",
        "json",
    ]);
    assert_eq!(execute(cli, &mut report).unwrap(), 0);
    let report: serde_json::Value = serde_json::from_slice(&report).unwrap();
    let actions: Vec<(&str, &str)> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            ("docs/monitoring.md", "update"),
            ("docs/troubleshooting.md", "merge")
        ]
    );

    let fresh_copy = |tag: &str, i: usize| -> PathBuf {
        let target = dir.join(format!("{tag}-{i}"));
        copy(&source, &target);
        target
    };
    let merge_args = |target: &str| -> Vec<String> {
        ["upgrade", target, "--template-dir", &templates_arg]
            .map(String::from)
            .into()
    };
    let merge = time_with_setup(
        runs,
        |i| fresh_copy("lib", i).display().to_string(),
        |target| {
            let args = merge_args(&target);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            assert_eq!(run_in_process(&args), 0);
        },
    );
    let noop = time(runs, |_| {
        assert_eq!(run_in_process(&["upgrade", &source_arg]), 0);
    });
    let process = |args: &[String], target: &Path| {
        let status = Command::new(bin.unwrap())
            .args(args)
            .current_dir(target)
            .env("HOME", home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    };
    let (merge_process, noop_process) = match bin {
        Some(_) => (
            Some(time_with_setup(
                runs,
                |i| fresh_copy("bin", i),
                |target| process(&merge_args(&target.display().to_string()), &target),
            )),
            Some(time(runs, |_| {
                process(&["upgrade".to_string(), source_arg.clone()], &source)
            })),
        ),
        None => (None, None),
    };
    let show = |d: Option<Duration>| {
        d.map(ms)
            .unwrap_or_else(|| "(build --release first)".into())
    };
    println!();
    println!(
        "| upgrade (default preset, one team commit) | in-process | `infra-new upgrade` (process) |"
    );
    println!("|---|---|---|");
    println!(
        "| clean merge: 1 file merged with the team's edit, 1 updated (templates from `--template-dir`) | {} | {} |",
        ms(merge),
        show(merge_process)
    );
    println!(
        "| no-op: the same templates (embedded) | {} | {} |",
        ms(noop),
        show(noop_process)
    );
}

/// A compliant Deployment with its PodDisruptionBudget and HorizontalPodAutoscaler: one
/// realistic manifest file of the 1,000 the check benchmark walks.
fn manifest(i: usize) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-{i}
  namespace: bench
  labels:
    app.kubernetes.io/name: svc-{i}
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: svc-{i}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: svc-{i}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
      containers:
      - name: app
        image: ghcr.io/acme/svc-{i}:1.4.{i}
        ports:
        - containerPort: 8080
        resources:
          requests: {{cpu: 100m, memory: 128Mi}}
          limits: {{cpu: 500m, memory: 128Mi}}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities:
            drop: [ALL]
        readinessProbe:
          httpGet: {{path: /readyz, port: 8080}}
        livenessProbe:
          httpGet: {{path: /healthz, port: 8080}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: svc-{i}
  namespace: bench
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: svc-{i}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: svc-{i}
  namespace: bench
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: svc-{i}}}
  minReplicas: 2
  maxReplicas: 6
  metrics:
  - type: Resource
    resource:
      name: cpu
      target: {{type: Utilization, averageUtilization: 70}}
"#
    )
}

/// `check` over 1,000 manifest files (each a Deployment, its disruption budget and autoscaler),
/// over the default preset's scaffold (file by file, and rendered when kubectl is on PATH), and
/// `check --drift` of that scaffold.
fn check(runs: usize, scratch: &Path, bin: Option<&Path>) {
    let many = scratch.join("check-1000");
    std::fs::create_dir_all(&many).unwrap();
    for i in 0..1000 {
        std::fs::write(many.join(format!("svc-{i:04}.yaml")), manifest(i)).unwrap();
    }
    let bytes: usize = (0..1000).map(|i| manifest(i).len()).sum();
    let raw = checker::Options::default();
    let report = checker::check(&many, &raw).unwrap();
    assert_eq!(report.files_checked, 1000);
    assert!(
        report.findings.is_empty() && report.errors.is_empty(),
        "{:?}",
        report.findings.first()
    );

    let answers = bench_answers("default");
    let scaffold = scratch.join("check-scaffold");
    let tree = Renderer::embedded().unwrap().render(&answers).unwrap();
    apply::apply_new(&Plan::for_new(&scaffold, tree).unwrap(), None).unwrap();
    let kubectl = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("kubectl"))
            .find(|p| p.is_file())
    });

    let process = |args: &[&str], path: &str| {
        let bin = bin.expect("checked by the caller");
        let status = Command::new(bin)
            .arg("check")
            .args(args)
            .env("PATH", path)
            .output()
            .unwrap()
            .status;
        assert_eq!(status.code(), Some(0), "check {args:?}");
    };
    let show = |d: Option<Duration>| {
        d.map(ms)
            .unwrap_or_else(|| "(build --release first)".into())
    };
    let many_arg = many.display().to_string();
    let scaffold_arg = scaffold.display().to_string();

    println!();
    println!("| check | in-process | `infra-new check` (process) |");
    println!("|---|---|---|");
    let in_process = time(runs, |_| {
        std::hint::black_box(checker::check(&many, &raw).unwrap());
    });
    let as_process = bin.map(|_| time(runs, |_| process(&[&many_arg], "")));
    println!(
        "| 1,000 manifest files ({:.1} MiB; a Deployment, PDB and HPA each) | {} | {} |",
        bytes as f64 / (1024.0 * 1024.0),
        ms(in_process),
        show(as_process)
    );
    let in_process = time(runs, |_| {
        std::hint::black_box(checker::check(&scaffold, &raw).unwrap());
    });
    let as_process = bin.map(|_| time(runs, |_| process(&[&scaffold_arg], "")));
    println!(
        "| default scaffold, file by file ({} files) | {} | {} |",
        report_files(&scaffold),
        ms(in_process),
        show(as_process)
    );
    if let Some(kubectl) = &kubectl {
        let rendered = checker::Options {
            kubectl: Some(kubectl.clone()),
        };
        let in_process = time(runs, |_| {
            std::hint::black_box(checker::check(&scaffold, &rendered).unwrap());
        });
        let dir = kubectl.parent().unwrap().display().to_string();
        let as_process = bin.map(|_| time(runs, |_| process(&[&scaffold_arg], &dir)));
        println!(
            "| default scaffold, overlays rendered with `kubectl kustomize` | {} | {} |",
            ms(in_process),
            show(as_process)
        );
    } else {
        println!("| default scaffold, overlays rendered | (kubectl not on PATH) | - |");
    }
    let renderer = Renderer::embedded().unwrap();
    let in_process = time(runs, |_| {
        std::hint::black_box(checker::drift::drift(&scaffold, &renderer).unwrap());
    });
    let as_process = bin.map(|_| time(runs, |_| process(&[&scaffold_arg, "--drift"], "")));
    println!(
        "| `--drift`, default scaffold | {} | {} |",
        ms(in_process),
        show(as_process)
    );
}

fn report_files(dir: &Path) -> usize {
    checker::check(dir, &checker::Options::default())
        .unwrap()
        .files_checked
}
