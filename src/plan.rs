//! A plan: what applying a rendered tree to a directory would do, file by file. Dry runs print it;
//! `apply` carries it out.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Error;
use crate::render::Tree;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// The file does not exist yet.
    Create,
    /// The file exists with exactly these contents.
    Unchanged,
    /// The file exists with other contents (an upgrade: the team left it as the last render had
    /// it, and the new render changes it).
    Update,
    /// Upgrade: both the team and the new render changed the file, and the changes merge.
    Merge,
    /// Upgrade: both changed the same lines, or one deleted what the other changed.
    Conflict,
    /// Upgrade: the new render drops a file the team left unchanged.
    Remove,
    /// Upgrade: the team deleted a file the new render still has, unchanged: it stays deleted.
    KeepDeleted,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Unchanged => "unchanged",
            Action::Update => "update",
            Action::Merge => "merge",
            Action::Conflict => "conflict",
            Action::Remove => "remove",
            Action::KeepDeleted => "keep-deleted",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub path: String,
    pub action: Action,
    pub size: usize,
}

#[derive(Debug)]
pub struct Plan {
    pub target: PathBuf,
    pub entries: Vec<Entry>,
    pub tree: Tree,
}

impl Plan {
    /// Compares `tree` with what is on disk under `target` (a missing target means every file is new).
    pub fn compare(target: &Path, tree: Tree) -> Result<Plan, Error> {
        let mut entries = Vec::with_capacity(tree.len());
        for (path, contents) in &tree {
            let on_disk = target.join(path);
            let action = match std::fs::read(&on_disk) {
                Ok(existing) if existing == *contents => Action::Unchanged,
                Ok(_) => Action::Update,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Action::Create,
                Err(e) => return Err(Error::io("cannot read", on_disk)(e)),
            };
            entries.push(Entry {
                path: path.clone(),
                action,
                size: contents.len(),
            });
        }
        Ok(Plan {
            target: target.to_path_buf(),
            entries,
            tree,
        })
    }

    /// The plan for a new scaffold: the target must not exist, or be an empty directory.
    pub fn for_new(target: &Path, tree: Tree) -> Result<Plan, Error> {
        match std::fs::metadata(target) {
            Ok(meta) if !meta.is_dir() => {
                return Err(Error::TargetNotDirectory(target.to_path_buf()));
            }
            Ok(_) => {
                let mut entries =
                    std::fs::read_dir(target).map_err(Error::io("cannot read", target))?;
                if entries.next().is_some() {
                    return Err(Error::TargetNotEmpty(target.to_path_buf()));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("cannot inspect", target)(e)),
        }
        // Nothing is there: every file is new, without reading the disk for each.
        let entries = tree
            .iter()
            .map(|(path, contents)| Entry {
                path: path.clone(),
                action: Action::Create,
                size: contents.len(),
            })
            .collect();
        Ok(Plan {
            target: target.to_path_buf(),
            entries,
            tree,
        })
    }

    pub fn count(&self, action: Action) -> usize {
        self.entries.iter().filter(|e| e.action == action).count()
    }

    pub fn total_size(&self) -> usize {
        self.entries.iter().map(|e| e.size).sum()
    }

    /// A unified diff of every file that would change, against what is on disk.
    pub fn diff(&self, path: &str) -> Result<Option<String>, Error> {
        let new = &self.tree[path];
        let old = match std::fs::read(self.target.join(path)) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io("cannot read", self.target.join(path))(e)),
        };
        if old.as_deref() == Some(new.as_slice()) {
            return Ok(None);
        }
        let (Ok(new_text), Ok(old_text)) = (
            std::str::from_utf8(new),
            std::str::from_utf8(old.as_deref().unwrap_or_default()),
        ) else {
            return Ok(Some(format!("Binary file {path} differs\n")));
        };
        let old_name = if old.is_some() {
            format!("a/{path}")
        } else {
            "/dev/null".to_string()
        };
        let diff = similar::TextDiff::from_lines(old_text, new_text);
        Ok(Some(
            diff.unified_diff()
                .context_radius(3)
                .header(&old_name, &format!("b/{path}"))
                .to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(pairs: &[(&str, &str)]) -> Tree {
        pairs
            .iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn compare_sorts_files_into_actions() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("same"), "x").unwrap();
        std::fs::write(dir.path().join("changed"), "old\n").unwrap();
        let plan = Plan::compare(
            dir.path(),
            tree(&[("same", "x"), ("changed", "new\n"), ("new/file", "n")]),
        )
        .unwrap();
        let actions: Vec<_> = plan
            .entries
            .iter()
            .map(|e| (e.path.as_str(), e.action))
            .collect();
        assert_eq!(
            actions,
            vec![
                ("changed", Action::Update),
                ("new/file", Action::Create),
                ("same", Action::Unchanged)
            ]
        );
        assert_eq!(plan.diff("same").unwrap(), None);
        let d = plan.diff("changed").unwrap().unwrap();
        assert!(
            d.contains("-old") && d.contains("+new") && d.contains("a/changed"),
            "{d}"
        );
        assert!(
            plan.diff("new/file")
                .unwrap()
                .unwrap()
                .starts_with("--- /dev/null")
        );
    }

    #[test]
    fn new_refuses_non_empty_targets_and_files() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Plan::for_new(dir.path(), Tree::new()).is_ok());
        std::fs::write(dir.path().join("f"), "").unwrap();
        assert!(matches!(
            Plan::for_new(dir.path(), Tree::new()),
            Err(Error::TargetNotEmpty(_))
        ));
        assert!(matches!(
            Plan::for_new(&dir.path().join("f"), Tree::new()),
            Err(Error::TargetNotDirectory(_))
        ));
    }
}
