//! The scaffold's git repository: branch `main` and one commit holding every generated file.
//! git2 is built without network support; nothing here talks to a remote.

use std::path::Path;

use git2::{Repository, RepositoryInitOptions, Signature};

use crate::error::Error;

/// The identity used when the user's git configuration has none.
pub const FALLBACK_NAME: &str = "infra-new";
pub const FALLBACK_EMAIL: &str = "infra-new@localhost";

#[derive(Debug, Clone)]
pub struct Commit {
    pub id: String,
    /// True when no `user.name`/`user.email` was configured and the fallback identity was used.
    pub fallback_identity: bool,
}

/// Creates a repository in `dir` on branch `main` and commits exactly `paths` (relative, `/`).
pub fn init_and_commit(dir: &Path, paths: &[&str], message: &str) -> Result<Commit, Error> {
    let mut opts = RepositoryInitOptions::new();
    opts.initial_head("main");
    let repo =
        Repository::init_opts(dir, &opts).map_err(Error::git("cannot create the repository"))?;
    let mut index = repo.index().map_err(Error::git("cannot open the index"))?;
    // Add the generated paths one by one: a pattern would also honour the scaffold's own
    // .gitignore, and every generated file belongs in the first commit.
    for path in paths {
        index
            .add_path(Path::new(path))
            .map_err(Error::git("cannot stage the generated files"))?;
    }
    index
        .write()
        .map_err(Error::git("cannot write the index"))?;
    let tree_id = index
        .write_tree()
        .map_err(Error::git("cannot write the tree"))?;
    let tree = repo
        .find_tree(tree_id)
        .map_err(Error::git("cannot read the tree back"))?;
    let (signature, fallback_identity) = match repo.signature() {
        Ok(sig) => (sig, false),
        Err(_) => (
            Signature::now(FALLBACK_NAME, FALLBACK_EMAIL)
                .map_err(Error::git("cannot make a signature"))?,
            true,
        ),
    };
    let id = repo
        .commit(Some("HEAD"), &signature, &signature, message, &tree, &[])
        .map_err(Error::git("cannot create the first commit"))?;
    Ok(Commit {
        id: id.to_string(),
        fallback_identity,
    })
}
