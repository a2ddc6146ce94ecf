//! `infra-new presets`.

use crate::support::{TestContext, stderr, stdout};

#[test]
fn lists_and_shows_presets() {
    let ctx = TestContext::new();
    let list = stdout(&ctx.cmd().arg("presets").assert().success());
    assert!(
        list.lines()
            .any(|l| l.starts_with("default ") && l.contains("Go service on AWS")),
        "{list}"
    );
    assert_eq!(
        list,
        stdout(&ctx.cmd().args(["presets", "list"]).assert().success())
    );

    let shown = stdout(
        &ctx.cmd()
            .args(["presets", "show", "default"])
            .assert()
            .success(),
    );
    assert_eq!(
        shown,
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/presets/default.toml"))
            .unwrap()
    );

    let err = stderr(&ctx.cmd().args(["presets", "show", "nope"]).assert().code(2));
    assert!(
        err.contains("unknown preset `nope`") && err.contains("default"),
        "{err}"
    );
}
