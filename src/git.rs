//! The scaffold's git repository: branch `main` and one commit holding every generated file.
//! git2 is built without network support; nothing here talks to a remote.

use std::path::Path;

use std::collections::BTreeMap;

use git2::{
    IndexEntry, IndexTime, Indexer, Mempack, Odb, Oid, Repository, RepositoryInitOptions, Signature,
};

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

/// Creates a repository in `dir` on branch `main` and commits `files` (relative path with `/` →
/// contents), which must already be written below `dir` with exactly these contents.
pub fn init_and_commit(
    dir: &Path,
    files: &BTreeMap<String, Vec<u8>>,
    message: &str,
) -> Result<Commit, Error> {
    let mut opts = RepositoryInitOptions::new();
    opts.initial_head("main");
    let repo =
        Repository::init_opts(dir, &opts).map_err(Error::git("cannot create the repository"))?;
    // Objects are built in memory only and written as one pack at the end: one file instead of
    // a loose object file per blob, tree and commit, and no per-object existence checks against
    // the (empty) on-disk store.
    let memory = Odb::new().map_err(Error::git("cannot create an object store"))?;
    let mempack = memory
        .add_new_mempack_backend(1)
        .map_err(Error::git("cannot add an in-memory object store"))?;
    repo.set_odb(&memory)
        .map_err(Error::git("cannot use the in-memory object store"))?;
    let mut index = repo.index().map_err(Error::git("cannot open the index"))?;
    // Blobs come from the rendered bytes and index entries carry the written files' stat data,
    // so `git status` is clean at once. Staging by path instead would read every file back and
    // run git's attribute and filter machinery on each, for the same result, several times
    // slower; it would also honour the scaffold's own .gitignore, and every generated file
    // belongs in the first commit.
    for (path, contents) in files {
        let id = repo
            .blob(contents)
            .map_err(Error::git("cannot store a generated file"))?;
        let meta = std::fs::symlink_metadata(dir.join(path))
            .map_err(Error::io("cannot inspect", dir.join(path)))?;
        index
            .add(&entry(path, id, contents.len(), &meta))
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
    let (signature, fallback_identity) = signature(&repo)?;
    let id = repo
        .commit(None, &signature, &signature, message, &tree, &[])
        .map_err(Error::git("cannot create the first commit"))?;
    write_pack(&repo, &mempack)?;
    // HEAD is `main` (unborn until now): point the branch at the commit, whose objects are on disk.
    repo.reference("refs/heads/main", id, false, "infra-new: first commit")
        .map_err(Error::git("cannot create branch main"))?;
    Ok(Commit {
        id: id.to_string(),
        fallback_identity,
    })
}

/// An index entry for a regular file, with the stat data git compares to decide a file is
/// unchanged without reading it.
fn entry(path: &str, id: Oid, size: usize, meta: &std::fs::Metadata) -> IndexEntry {
    #[cfg(unix)]
    let (ctime, mtime, dev, ino, uid, gid, mode) = {
        use std::os::unix::fs::MetadataExt;
        let t = |s: i64, ns: i64| IndexTime::new(s as i32, ns as u32);
        let exec = meta.mode() & 0o111 != 0;
        (
            t(meta.ctime(), meta.ctime_nsec()),
            t(meta.mtime(), meta.mtime_nsec()),
            meta.dev() as u32,
            meta.ino() as u32,
            meta.uid(),
            meta.gid(),
            if exec { 0o100755 } else { 0o100644 },
        )
    };
    #[cfg(not(unix))]
    let (ctime, mtime, dev, ino, uid, gid, mode) = (
        IndexTime::new(0, 0),
        IndexTime::new(0, 0),
        0,
        0,
        0,
        0,
        0o100644,
    );
    IndexEntry {
        ctime,
        mtime,
        dev,
        ino,
        mode,
        uid,
        gid,
        file_size: size as u32,
        id,
        flags: path.len().min(0xfff) as u16,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}

/// The user's git identity, or the fallback one (then `true`).
pub fn signature(repo: &Repository) -> Result<(Signature<'static>, bool), Error> {
    match repo.signature() {
        Ok(sig) => Ok((sig, false)),
        Err(_) => Ok((
            Signature::now(FALLBACK_NAME, FALLBACK_EMAIL)
                .map_err(Error::git("cannot make a signature"))?,
            true,
        )),
    }
}

/// Writes the objects collected in `mempack` to the repository as one pack file.
fn write_pack(repo: &Repository, mempack: &Mempack<'_>) -> Result<(), Error> {
    let mut pack = git2::Buf::new();
    mempack
        .dump(repo, &mut pack)
        .map_err(Error::git("cannot pack the objects"))?;
    let pack_dir = repo.path().join("objects/pack");
    // The pack may be thin (deltas against objects already in the repository): the indexer
    // resolves those from the object store.
    let odb = repo
        .odb()
        .map_err(Error::git("cannot open the object store"))?;
    let mut indexer = Indexer::new(Some(&odb), &pack_dir, 0o444, true)
        .map_err(Error::git("cannot write the pack"))?;
    std::io::Write::write_all(&mut indexer, &pack)
        .map_err(Error::io("cannot write the pack into", &pack_dir))?;
    indexer
        .commit()
        .map_err(Error::git("cannot index the pack"))?;
    Ok(())
}
