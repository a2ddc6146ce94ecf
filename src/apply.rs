//! Writing a plan. A new scaffold is written into a temporary directory next to the target,
//! committed there, and renamed into place in one step: an error or a kill before the rename
//! leaves no partial scaffold at the target.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::git::{self, Commit};
use crate::plan::Plan;

#[derive(Debug)]
pub struct Applied {
    pub target: PathBuf,
    pub files: usize,
    pub commit: Option<Commit>,
}

/// Creates the scaffold of `plan` at its target; with `commit_message`, as a git repository whose
/// first commit holds every file.
pub fn apply_new(plan: &Plan, commit_message: Option<&str>) -> Result<Applied, Error> {
    let target =
        std::path::absolute(&plan.target).map_err(Error::io("cannot resolve", &plan.target))?;
    let parent = target
        .parent()
        .ok_or_else(|| Error::TargetNotDirectory(target.clone()))?;
    let created_parents = create_parents(parent)?;
    let result = write_and_rename(plan, &target, parent, commit_message);
    if result.is_err() {
        // Leave the file system as we found it: remove the parents we made, if still empty.
        for dir in created_parents.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }
    result
}

fn write_and_rename(
    plan: &Plan,
    target: &Path,
    parent: &Path,
    commit_message: Option<&str>,
) -> Result<Applied, Error> {
    let stem = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{stem}.infra-new-");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    // Ask for 0777 so that the umask decides, as for any directory the user creates; a temporary
    // directory's default 0700 would otherwise become the scaffold's mode after the rename.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o777));
    }
    let staging = builder
        .tempdir_in(parent)
        .map_err(Error::io("cannot create a temporary directory in", parent))?;
    // Each directory once (the tree is sorted, so a directory's files are contiguous), then
    // the files: on slow file systems every extra mkdir shows.
    let mut made: Option<&Path> = None;
    for (path, contents) in &plan.tree {
        let dest = staging.path().join(path);
        let dir = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir
            && made != Some(dir)
        {
            fs::create_dir_all(staging.path().join(dir))
                .map_err(Error::io("cannot create", staging.path().join(dir)))?;
            made = Some(dir);
        }
        fs::write(&dest, contents).map_err(Error::io("cannot write", &dest))?;
    }
    let commit = match commit_message {
        Some(message) => Some(git::init_and_commit(staging.path(), &plan.tree, message)?),
        None => None,
    };
    // rename(2) replaces an empty directory atomically and fails on a non-empty one, so a target
    // that gained files since the plan was made is never overwritten.
    fs::rename(staging.path(), target).map_err(|e| {
        if target.is_dir()
            && fs::read_dir(target)
                .map(|mut d| d.next().is_some())
                .unwrap_or(false)
        {
            Error::TargetNotEmpty(target.to_path_buf())
        } else {
            Error::io("cannot move the scaffold into", target)(e)
        }
    })?;
    // The directory now lives at the target; the guard must not delete it.
    let _ = staging.keep();
    Ok(Applied {
        target: target.to_path_buf(),
        files: plan.tree.len(),
        commit,
    })
}

/// Creates the missing ancestors of `dir`, returning the ones it made (outermost first).
fn create_parents(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut missing = Vec::new();
    let mut cursor = Some(dir);
    while let Some(d) = cursor {
        if d.exists() {
            break;
        }
        missing.push(d.to_path_buf());
        cursor = d.parent();
    }
    missing.reverse();
    for d in &missing {
        fs::create_dir(d).map_err(Error::io("cannot create", d))?;
    }
    Ok(missing)
}
