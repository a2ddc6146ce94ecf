//! `cargo bench`: how long `infra-new new` takes per preset, in-process and as a whole command,
//! against `cp -r` of the same tree. Prints a Markdown table (the README quotes it).
//!
//! Medians over many runs; set INFRA_NEW_BENCH_RUNS to change the count.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use infra_new::plan::Plan;
use infra_new::render::Renderer;
use infra_new::{apply, presets};

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
        let answers = presets::answers(
            &preset.name,
            &[
                ("name", "checkout"),
                ("org", "acme"),
                ("account", "111122223333"),
            ],
        )
        .unwrap();

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
}
