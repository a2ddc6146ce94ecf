//! The wizard on a real terminal: `script` (util-linux) gives the binary a pseudo-terminal, and
//! keystrokes are typed into it one prompt at a time.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::TestContext;

/// Runs `infra-new <args>` on a pseudo-terminal, typing `keys` (one entry per prompt).
fn on_a_terminal(ctx: &TestContext, args: &str, keys: &[&str]) -> Option<(bool, String)> {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: `script` (util-linux) is not installed, so no pseudo-terminal");
        return None;
    }
    let bin = assert_cmd::cargo::cargo_bin("infra-new");
    let mut child = Command::new("script")
        .args([
            "-q",
            "-e",
            "-c",
            &format!("{} {args}", bin.display()),
            "/dev/null",
        ])
        .current_dir(ctx.dir.path())
        .env("HOME", &ctx.home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for key in keys {
        std::thread::sleep(Duration::from_millis(400));
        stdin.write_all(key.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
    std::thread::sleep(Duration::from_millis(500));
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    Some((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

#[test]
fn the_wizard_asks_for_every_missing_answer_with_defaults() {
    let ctx = TestContext::new();
    // name (default: the directory), six choices (Enter keeps the first), org, team, port (typed
    // text replaces the default), region, SLO.
    let keys = [
        "\r",
        "\r",
        "\r",
        "\r",
        "\r",
        "\r",
        "\r",
        "acme\r",
        "payments\r",
        "9090\r",
        "\r",
        "111122223333\r",
        "\r",
    ];
    let Some((ok, screen)) = on_a_terminal(&ctx, "new svc --no-git", &keys) else {
        return;
    };
    assert!(ok, "{screen}");
    for prompt in [
        "Service name",
        "Language",
        "Container registry",
        "Organisation",
        "HTTP port",
        "Availability SLO",
    ] {
        assert!(
            screen.contains(prompt),
            "no `{prompt}` prompt in:\n{screen}"
        );
    }
    let record = std::fs::read_to_string(ctx.path("svc/.infra-new.toml")).unwrap();
    for line in [
        "name = \"svc\"",
        "org = \"acme\"",
        "team = \"payments\"",
        "port = 9090",
        "region = \"us-east-1\"",
    ] {
        assert!(record.contains(line), "{line} not in\n{record}");
    }
}

#[test]
fn the_wizard_asks_only_for_what_flags_and_defaults_leave_open() {
    let ctx = TestContext::new();
    let Some((ok, screen)) = on_a_terminal(
        &ctx,
        "new svc --preset default --yes --no-git",
        &["acme\r", "111122223333\r"],
    ) else {
        return;
    };
    assert!(ok, "{screen}");
    assert!(screen.contains("Organisation"), "{screen}");
    assert!(screen.contains("Cloud account"), "{screen}");
    assert!(
        !screen.contains("Language") && !screen.contains("HTTP port"),
        "asked for an answer it had:\n{screen}"
    );
    assert!(
        std::fs::read_to_string(ctx.path("svc/.infra-new.toml"))
            .unwrap()
            .contains("org = \"acme\"")
    );
}

#[test]
fn the_wizard_lists_only_the_registries_of_the_chosen_cloud() {
    let ctx = TestContext::new();
    // name, language, registry (one down from the first: gar when only ghcr, gar and dockerhub
    // are listed), rollout, ci, gitops, org, team, port, region, account (a project ID), SLO.
    let keys = [
        "\r",
        "\r",
        "\x1b[B\r",
        "\r",
        "\r",
        "\r",
        "acme\r",
        "\r",
        "\r",
        "\r",
        "acme-svc-prod\r",
        "\r",
    ];
    let Some((ok, screen)) = on_a_terminal(&ctx, "new svc --cloud gcp --no-git", &keys) else {
        return;
    };
    assert!(ok, "{screen}");
    assert!(
        !screen.contains("Amazon ECR"),
        "offered ECR on gcp:\n{screen}"
    );
    let record = std::fs::read_to_string(ctx.path("svc/.infra-new.toml")).unwrap();
    for line in [
        "registry = \"gar\"",
        "region = \"us-central1\"",
        "account = \"acme-svc-prod\"",
    ] {
        assert!(record.contains(line), "{line} not in\n{record}");
    }
}
