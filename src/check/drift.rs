//! `check --drift`: the managed files of a scaffold that differ from what this version's
//! templates render from its recorded answers. When the repository holds the render the branch
//! last merged, each difference is told apart: edited here, changed in the templates, or both.

use std::path::Path;

use super::{Finding, Report, Rule, Severity};
use crate::answers::{self, Origin, RawAnswers, Resolve};
use crate::error::Error;
use crate::render::{Renderer, VERSION};
use crate::upgrade::{self, ANSWERS_FILE, Workspace};

pub static DRIFT001: Rule = Rule {
    id: "DRIFT001",
    severity: Severity::Warning,
    title: "Managed files match the templates of this infra-new version",
    fix: "Run `infra-new upgrade` to merge the templates' changes (your edits are kept)",
    explain: "\
Only reported by `infra-new check --drift`. The scaffold is rendered again in memory from the
answers recorded in .infra-new.toml, with the templates of the infra-new that runs the check,
and every rendered file is compared with the work tree. A file that differs is reported once:

- missing: the file was deleted here;
- edited here: the templates render what they rendered last time, the team changed the file;
- changed in the templates: the file is as last rendered, and this version renders it
  differently, so `infra-new upgrade` would bring the change;
- both: edited here and changed in the templates; the upgrade merges the two (or leaves a
  conflict to resolve).

Telling these apart needs the render commit `infra-new new` and `upgrade` leave in the history;
without it (a copy of the files, a shallow clone) the report only says the file differs. Edits
are expected, the files are yours: drift is a prompt to upgrade, not an error.",
};

pub static RULES: &[&Rule] = &[&DRIFT001];

/// Renders the scaffold at `root` again and reports the managed files that differ.
pub fn drift(root: &Path, renderer: &Renderer) -> Result<Report, Error> {
    let answers_path = root.join(ANSWERS_FILE);
    let recorded = std::fs::read_to_string(&answers_path)
        .map_err(|_| Error::NotAScaffold(root.to_path_buf()))?;
    let raw = RawAnswers::from_toml(&recorded, Origin::File(ANSWERS_FILE.into()))
        .map_err(Error::InvalidAnswers)?;
    // Answers added by a newer version take their defaults, as an upgrade would.
    let answers = answers::resolve(
        &raw,
        &mut Resolve {
            dir_name: None,
            take_defaults: true,
            prompter: None,
            earlier: Vec::new(),
        },
    )?;
    let tree = renderer.render_kind(&answers, upgrade::recorded_kind(&recorded))?;

    // The last render, when `root` is the top of a repository that has one.
    let workspace = Workspace::inspect(root).filter(|ws| same_dir(ws.root(), root));
    let last = match &workspace {
        Some(ws) => ws.last_render()?,
        None => None,
    };

    let mut findings = Vec::new();
    for (path, rendered) in &tree {
        let current = std::fs::read(root.join(path)).ok();
        if current.as_deref() == Some(rendered.as_slice()) {
            continue;
        }
        let base = match (&workspace, &last) {
            (Some(ws), Some(last)) => Some(ws.render_file(last, path)?),
            _ => None,
        };
        let message = match (current, base) {
            (None, _) => format!("deleted here; infra-new {VERSION} still renders it"),
            (Some(current), Some(base)) => {
                let version = &last
                    .as_ref()
                    .expect("a base comes from the last render")
                    .version;
                let edited = base.as_deref() != Some(current.as_slice());
                let changed = base.as_deref() != Some(rendered.as_slice());
                match (edited, changed) {
                    (true, false) => {
                        format!("edited here; the templates render it as in infra-new {version}")
                    }
                    (false, _) => format!(
                        "changed in the templates since infra-new {version}; `infra-new upgrade` brings the change"
                    ),
                    (true, true) => format!(
                        "edited here and changed in the templates since infra-new {version}; `infra-new upgrade` merges both"
                    ),
                }
            }
            (Some(_), None) => format!("differs from what infra-new {VERSION} renders"),
        };
        findings.push(Finding {
            rule: &DRIFT001,
            path: path.clone(),
            line: None,
            message,
        });
    }

    let mut notes = vec![format!(
        "{} managed file{} compared with the templates of infra-new {VERSION}",
        tree.len(),
        if tree.len() == 1 { "" } else { "s" }
    )];
    match &last {
        Some(last) => notes.push(format!(
            "last render: infra-new {} (commit {:.10})",
            last.version,
            last.commit.to_string()
        )),
        None => notes.push(
            "no render commit in the history: edits and template changes are not told apart".into(),
        ),
    }
    Ok(Report {
        files_checked: tree.len(),
        findings,
        notes,
        ..Report::default()
    })
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
