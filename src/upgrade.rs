//! Upgrading and adopting: a new render brought into an existing repository by a three-way merge
//! in git.
//!
//! Every render infra-new brings into a repository is a commit of its own, holding exactly the
//! rendered files and marked with the [`TRAILER`] line: the first commit of `new`, and one per
//! `upgrade` or `init`. The working branch merges it, so it travels with every full clone. The
//! next upgrade finds the newest such commit in the branch's history, commits the new render on
//! top of it, and merges that commit into the branch: the base of the merge is the render the
//! team last merged, never a re-render by old templates. Conflicts are ordinary git conflicts
//! (index stages, markers, MERGE_HEAD), so `git status`, mergetools, `git commit` and
//! `git merge --abort` work as for any merge.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use git2::build::CheckoutBuilder;
use git2::{
    Index, IndexEntry, IndexTime, MergeOptions, ObjectType, Oid, Repository, RepositoryState,
    ResetType, Sort, StatusOptions, Tree as GitTree,
};
use serde::Serialize;

use crate::error::Error;
use crate::git;
use crate::options::Language;
use crate::plan::{Action, Entry, Plan};
use crate::render::{Kind, Tree};

/// The commit-message trailer that marks a commit as a render: `Infra-New-Render: <version>`.
pub const TRAILER: &str = "Infra-New-Render";

/// The answers file every render records, read back by `upgrade`.
pub const ANSWERS_FILE: &str = ".infra-new.toml";

/// A repository that may take a render: a work tree with nothing uncommitted and no merge,
/// rebase or the like in progress.
pub struct Workspace {
    repo: Repository,
    root: PathBuf,
}

/// The render the branch last merged.
#[derive(Debug, Clone)]
pub struct LastRender {
    pub commit: Oid,
    pub version: String,
}

/// What the merge of a new render would do, file by file, and the conflicts it would leave.
pub struct Upgrade {
    pub plan: Plan,
    pub conflicts: Vec<String>,
    /// The render's tree equals the last render's: nothing to do.
    pub up_to_date: bool,
}

/// What an applied upgrade left behind.
#[derive(Debug, Serialize)]
pub struct Outcome {
    /// The merge commit, when there was no conflict.
    pub commit: Option<String>,
    /// The render commit the branch merges (MERGE_HEAD while conflicts remain).
    pub render: String,
    pub conflicts: Vec<String>,
}

impl Workspace {
    /// Opens the repository containing `dir` and checks that a render can be merged into it.
    pub fn open(dir: &Path) -> Result<Workspace, Error> {
        let repo =
            Repository::discover(dir).map_err(|_| Error::NotARepository(dir.to_path_buf()))?;
        // libgit2 ends the work tree's path with a separator; normalise it for messages.
        let root: PathBuf = repo
            .workdir()
            .ok_or_else(|| Error::NotARepository(dir.to_path_buf()))?
            .components()
            .collect();
        if repo.state() != RepositoryState::Clean {
            return Err(Error::OperationInProgress(format!("{:?}", repo.state())));
        }
        if repo.head().is_err() {
            return Err(Error::NoCommits(root));
        }
        let dirty = dirty_paths(&repo)?;
        if !dirty.is_empty() {
            return Err(Error::Dirty(dirty));
        }
        Ok(Workspace { repo, root })
    }

    /// Opens the repository containing `dir` to read from it, whatever the state of its work
    /// tree: `None` outside a repository or before the first commit.
    pub fn inspect(dir: &Path) -> Option<Workspace> {
        let repo = Repository::discover(dir).ok()?;
        let root: PathBuf = repo.workdir()?.components().collect();
        repo.head().ok()?;
        Some(Workspace { repo, root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The newest render in the history of HEAD, if any.
    pub fn last_render(&self) -> Result<Option<LastRender>, Error> {
        let head = self.head()?;
        let mut walk = self
            .repo
            .revwalk()
            .map_err(Error::git("cannot walk the history"))?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
            .map_err(Error::git("cannot walk the history"))?;
        walk.push(head)
            .map_err(Error::git("cannot walk the history"))?;
        for id in walk {
            let id = id.map_err(Error::git("cannot walk the history"))?;
            let commit = self
                .repo
                .find_commit(id)
                .map_err(Error::git("cannot read a commit"))?;
            if let Some(version) = render_version(commit.message_bytes()) {
                return Ok(Some(LastRender {
                    commit: id,
                    version,
                }));
            }
        }
        Ok(None)
    }

    /// Whether the repository is a shallow clone (its history may miss the last render).
    pub fn is_shallow(&self) -> bool {
        self.repo.is_shallow()
    }

    /// A file as committed at HEAD.
    pub fn head_file(&self, path: &str) -> Result<Option<Vec<u8>>, Error> {
        self.tree_file(&self.head_tree()?, path)
    }

    /// A file as the last render wrote it (`path` relative to the work tree's root).
    pub fn render_file(&self, render: &LastRender, path: &str) -> Result<Option<Vec<u8>>, Error> {
        let tree = self
            .repo
            .find_commit(render.commit)
            .and_then(|c| c.tree())
            .map_err(Error::git("cannot read the last render"))?;
        self.tree_file(&tree, path)
    }

    fn tree_file(&self, tree: &GitTree<'_>, path: &str) -> Result<Option<Vec<u8>>, Error> {
        match tree.get_path(Path::new(path)) {
            Ok(entry) => {
                let blob = self
                    .repo
                    .find_blob(entry.id())
                    .map_err(Error::git("cannot read a committed file"))?;
                Ok(Some(blob.content().to_vec()))
            }
            Err(_) => Ok(None),
        }
    }

    /// Whether HEAD holds a file at `path`.
    pub fn head_has(&self, path: &str) -> Result<bool, Error> {
        Ok(self.head_tree()?.get_path(Path::new(path)).is_ok())
    }

    /// Merges `render` into HEAD: with `base` the last render (upgrade), or none (adopting a
    /// repository: every file that exists with other contents is a conflict). With `apply`, the
    /// render is committed and merged into the branch (a merge commit when there is no conflict);
    /// without it nothing is written.
    pub fn merge(
        &self,
        base: Option<&LastRender>,
        render: Tree,
        apply: Option<&Messages>,
    ) -> Result<(Upgrade, Option<Outcome>), Error> {
        let repo = &self.repo;
        // Every object this creates stays in memory until it is needed on disk (never, for a dry
        // run), then the new ones go out as one pack (see `store_new_objects`).
        let odb = repo
            .odb()
            .map_err(Error::git("cannot open the object store"))?;
        odb.add_new_mempack_backend(1000)
            .map_err(Error::git("cannot add an in-memory object store"))?;

        let theirs_id = write_tree(repo, &render)?;
        let theirs = find_tree(repo, theirs_id)?;
        let base_commit = base
            .map(|b| repo.find_commit(b.commit))
            .transpose()
            .map_err(Error::git("cannot read the last render"))?;
        let base_tree = match &base_commit {
            Some(c) => c
                .tree()
                .map_err(Error::git("cannot read the last render"))?,
            None => find_tree(repo, write_tree(repo, &Tree::new())?)?,
        };
        let ours = self.head_tree()?;
        let up_to_date = base.is_some() && base_tree.id() == theirs_id;

        let mut opts = MergeOptions::new();
        opts.find_renames(true);
        let mut merged = repo
            .merge_trees(&base_tree, &ours, &theirs, Some(&opts))
            .map_err(Error::git("cannot merge the render"))?;
        let conflicts = conflict_paths(&merged)?;
        let entries = classify(repo, &base_tree, &ours, &theirs, &merged, &conflicts)?;
        let upgrade = Upgrade {
            plan: Plan {
                target: self.root.clone(),
                entries,
                tree: render,
            },
            conflicts: conflicts.iter().cloned().collect(),
            up_to_date,
        };
        // Never overwrite a file git does not track (ignored ones are not "dirty"): every path
        // the merge writes that HEAD lacks must be free. That is a new file, but also one renamed
        // by the render or changed after the team deleted it (a conflict: the render's side is
        // written). Checked for dry runs too, so that they fail as the upgrade would.
        for e in merged.iter() {
            let path = String::from_utf8_lossy(&e.path);
            if ours.get_path(Path::new(&*path)).is_err()
                && self.root.join(&*path).symlink_metadata().is_ok()
            {
                return Err(Error::WouldOverwrite(path.into_owned()));
            }
        }
        let Some(messages) = apply.filter(|_| !up_to_date) else {
            return Ok((upgrade, None));
        };

        let (signature, _) = git::signature(repo)?;
        let head = self.head()?;
        let parents: Vec<git2::Commit> = base_commit.into_iter().collect();
        let parent_refs: Vec<&git2::Commit> = parents.iter().collect();
        let render_commit = repo
            .commit(
                None,
                &signature,
                &signature,
                &messages.render,
                &theirs,
                &parent_refs,
            )
            .map_err(Error::git("cannot commit the render"))?;
        let merge_commit = if conflicts.is_empty() {
            let tree = find_tree(
                repo,
                merged
                    .write_tree_to(repo)
                    .map_err(Error::git("cannot write the merged tree"))?,
            )?;
            let head_commit = repo
                .find_commit(head)
                .map_err(Error::git("cannot read HEAD"))?;
            let rendered = repo
                .find_commit(render_commit)
                .map_err(Error::git("cannot read the render commit"))?;
            Some(
                repo.commit(
                    None,
                    &signature,
                    &signature,
                    &messages.merge,
                    &tree,
                    &[&head_commit, &rendered],
                )
                .map_err(Error::git("cannot commit the merge"))?,
            )
        } else {
            None
        };
        store_new_objects(repo, &merged, &[Some(render_commit), merge_commit])?;

        // From here on the repository is in a merge, as `git merge` leaves it: an interruption
        // is undone by `git merge --abort` or `infra-new upgrade --abort`.
        let git_dir = repo.path();
        write_state(git_dir, "ORIG_HEAD", &format!("{head}\n"))?;
        write_state(git_dir, "MERGE_HEAD", &format!("{render_commit}\n"))?;
        write_state(git_dir, "MERGE_MODE", "")?;
        write_state(git_dir, "MERGE_MSG", &messages.merge)?;
        // Only the files the merge changes are touched: the index starts from HEAD's (with its
        // stat data), takes the merge result for those paths, and checkout writes just them.
        let changed: Vec<&str> = upgrade
            .plan
            .entries
            .iter()
            .filter(|e| !matches!(e.action, Action::Unchanged | Action::KeepDeleted))
            .map(|e| e.path.as_str())
            .collect();
        let mut index = repo.index().map_err(Error::git("cannot open the index"))?;
        update_index(&mut index, &merged, &changed)?;
        index
            .write()
            .map_err(Error::git("cannot write the index"))?;
        let mut checkout = CheckoutBuilder::new();
        checkout
            .force()
            .allow_conflicts(true)
            .conflict_style_merge(true)
            .disable_pathspec_match(true)
            .ancestor_label(&messages.base_label)
            .our_label("yours")
            .their_label(&messages.render_label);
        for path in &changed {
            checkout.path(path);
        }
        if !changed.is_empty() {
            repo.checkout_index(None, Some(&mut checkout))
                .map_err(Error::git("cannot update the work tree"))?;
        }

        let commit = match merge_commit {
            Some(id) => {
                self.move_head(id, &messages.merge)?;
                repo.cleanup_state()
                    .map_err(Error::git("cannot finish the merge"))?;
                Some(id.to_string())
            }
            None => None,
        };
        let outcome = Outcome {
            commit,
            render: render_commit.to_string(),
            conflicts: upgrade.conflicts.clone(),
        };
        Ok((upgrade, Some(outcome)))
    }

    fn head(&self) -> Result<Oid, Error> {
        self.repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map(|c| c.id())
            .map_err(Error::git("cannot read HEAD"))
    }

    fn head_tree(&self) -> Result<GitTree<'_>, Error> {
        self.repo
            .head()
            .and_then(|h| h.peel_to_tree())
            .map_err(Error::git("cannot read HEAD"))
    }

    /// Points the current branch (or a detached HEAD) at `id`.
    fn move_head(&self, id: Oid, message: &str) -> Result<(), Error> {
        let head = self
            .repo
            .find_reference("HEAD")
            .map_err(Error::git("cannot read HEAD"))?;
        let log = format!("infra-new: {}", message.lines().next().unwrap_or_default());
        match head.symbolic_target().ok().flatten() {
            Some(branch) => self.repo.reference(branch, id, true, &log).map(|_| ()),
            None => self.repo.set_head_detached(id),
        }
        .map_err(Error::git("cannot move the branch to the merge"))
    }
}

/// The commit messages and conflict labels of one upgrade.
pub struct Messages {
    /// The render commit's message (it must carry the trailer: see [`render_message`]).
    pub render: String,
    /// The merge commit's message (also MERGE_MSG while conflicts remain).
    pub merge: String,
    /// Conflict-marker labels: the last render and the new one.
    pub base_label: String,
    pub render_label: String,
}

/// A render commit's message: a subject, a body and the trailer with `version`.
pub fn render_message(subject: &str, body: &str, version: &str) -> String {
    format!("{subject}\n\n{body}\n\n{TRAILER}: {version}\n")
}

/// The version in a render commit's trailer, or `None` for any other commit.
fn render_version(message: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(message);
    let prefix = format!("{TRAILER}: ");
    text.lines()
        .rev()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.trim().to_string())
}

/// Undoes an upgrade that stopped at conflicts: HEAD's files, index and no merge state, exactly
/// as before the upgrade started.
pub fn abort(dir: &Path) -> Result<(), Error> {
    let repo = Repository::discover(dir).map_err(|_| Error::NotARepository(dir.to_path_buf()))?;
    let merge_head = std::fs::read_to_string(repo.path().join("MERGE_HEAD"))
        .ok()
        .and_then(|s| Oid::from_str(s.trim()).ok());
    let is_ours = merge_head
        .and_then(|id| repo.find_commit(id).ok())
        .is_some_and(|c| render_version(c.message_bytes()).is_some());
    if !is_ours {
        return Err(Error::NothingToAbort);
    }
    let head = repo
        .head()
        .and_then(|h| h.peel(ObjectType::Commit))
        .map_err(Error::git("cannot read HEAD"))?;
    repo.reset(&head, ResetType::Hard, None)
        .map_err(Error::git("cannot restore HEAD's files"))?;
    repo.cleanup_state()
        .map_err(Error::git("cannot remove the merge state"))?;
    Ok(())
}

/// Modified, staged or untracked (not ignored) paths.
fn dirty_paths(repo: &Repository) -> Result<Vec<String>, Error> {
    let mut opts = StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false)
        .exclude_submodules(true);
    let statuses = repo
        .statuses(Some(&mut opts))
        .map_err(Error::git("cannot read the work tree's status"))?;
    Ok(statuses
        .iter()
        .filter_map(|s| s.path().ok().map(str::to_string))
        .collect())
}

/// Writes `tree` (path → contents, regular files) as git tree objects; returns the root's id.
fn write_tree(repo: &Repository, tree: &Tree) -> Result<Oid, Error> {
    let mut index = Index::new().map_err(Error::git("cannot create an index"))?;
    for (path, contents) in tree {
        let id = repo
            .blob(contents)
            .map_err(Error::git("cannot store a rendered file"))?;
        index
            .add(&file_entry(path, id, contents.len()))
            .map_err(Error::git("cannot stage a rendered file"))?;
    }
    index
        .write_tree_to(repo)
        .map_err(Error::git("cannot write the render's tree"))
}

fn find_tree(repo: &Repository, id: Oid) -> Result<GitTree<'_>, Error> {
    repo.find_tree(id)
        .map_err(Error::git("cannot read a tree back"))
}

fn file_entry(path: &str, id: Oid, size: usize) -> IndexEntry {
    IndexEntry {
        ctime: IndexTime::new(0, 0),
        mtime: IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode: 0o100644,
        uid: 0,
        gid: 0,
        file_size: size as u32,
        id,
        flags: path.len().min(0xfff) as u16,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}

/// Every path with a conflict, whichever side names it.
fn conflict_paths(index: &Index) -> Result<BTreeSet<String>, Error> {
    let mut paths = BTreeSet::new();
    let conflicts = index
        .conflicts()
        .map_err(Error::git("cannot read the conflicts"))?;
    for c in conflicts {
        let c = c.map_err(Error::git("cannot read a conflict"))?;
        for e in [c.ancestor, c.our, c.their].into_iter().flatten() {
            paths.insert(String::from_utf8_lossy(&e.path).into_owned());
        }
    }
    Ok(paths)
}

/// Takes the merge result for `paths` into `index`: the merged file, nothing (removed), or the
/// conflict's stages.
fn update_index(index: &mut Index, merged: &Index, paths: &[&str]) -> Result<(), Error> {
    for path in paths {
        let _ = index.remove_path(Path::new(path));
        if let Some(entry) = merged.get_path(Path::new(path), 0) {
            index
                .add(&entry)
                .map_err(Error::git("cannot write the index"))?;
        }
    }
    let conflicts = merged
        .conflicts()
        .map_err(Error::git("cannot read the conflicts"))?;
    for c in conflicts {
        let c = c.map_err(Error::git("cannot read a conflict"))?;
        // The entries carry their stage (1 base, 2 yours, 3 the render) in their flags.
        for side in [c.ancestor, c.our, c.their].iter().flatten() {
            index
                .add(side)
                .map_err(Error::git("cannot record a conflict"))?;
        }
    }
    Ok(())
}

/// Writes to the repository, as one pack, what the merge left in memory and the repository lacks:
/// the commits, their trees, and every blob the merged index names (a file merged cleanly next
/// to a conflict is in no commit yet, and `git commit` must find it). The in-memory store's own
/// dump would not do: it packs each commit with its whole tree (a full copy of the render on
/// every upgrade) and nothing else.
fn store_new_objects(
    repo: &Repository,
    merged: &Index,
    commits: &[Option<Oid>],
) -> Result<(), Error> {
    let on_disk = git2::Odb::new().map_err(Error::git("cannot open the object store"))?;
    let objects = repo.path().join("objects");
    on_disk
        .add_disk_alternate(&objects.to_string_lossy())
        .map_err(Error::git("cannot open the object store"))?;
    let mut pack = repo
        .packbuilder()
        .map_err(Error::git("cannot pack the objects"))?;
    let mut insert = |id: Oid| {
        pack.insert_object(id, None)
            .map_err(Error::git("cannot pack the objects"))
    };
    let mut trees = Vec::new();
    for id in commits.iter().flatten() {
        insert(*id)?;
        let commit = repo
            .find_commit(*id)
            .map_err(Error::git("cannot read a commit"))?;
        trees.push(commit.tree_id());
    }
    // A tree the repository has comes with everything below it.
    while let Some(id) = trees.pop() {
        if on_disk.exists(id) {
            continue;
        }
        insert(id)?;
        for e in find_tree(repo, id)?.iter() {
            match e.kind() {
                Some(ObjectType::Tree) => trees.push(e.id()),
                Some(ObjectType::Blob) if !on_disk.exists(e.id()) => insert(e.id())?,
                _ => {}
            }
        }
    }
    for e in merged.iter() {
        if !on_disk.exists(e.id) {
            insert(e.id)?;
        }
    }
    pack.write(&objects.join("pack"), 0o444)
        .map_err(Error::git("cannot write the pack"))
}

fn write_state(git_dir: &Path, name: &str, contents: &str) -> Result<(), Error> {
    let path = git_dir.join(name);
    std::fs::write(&path, contents).map_err(Error::io("cannot write", path))
}

fn blob_at(tree: &GitTree<'_>, path: &str) -> Option<Oid> {
    tree.get_path(Path::new(path))
        .ok()
        .filter(|e| e.kind() == Some(ObjectType::Blob))
        .map(|e| e.id())
}

/// One entry per file the last render or the new one has (the team's own files are not
/// reported), from the last render B, the branch O, the new render T and the merge result R.
fn classify(
    repo: &Repository,
    base: &GitTree<'_>,
    ours: &GitTree<'_>,
    theirs: &GitTree<'_>,
    merged: &Index,
    conflicts: &BTreeSet<String>,
) -> Result<Vec<Entry>, Error> {
    let mut paths = BTreeSet::new();
    for tree in [base, theirs] {
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
            if e.kind() == Some(ObjectType::Blob) {
                paths.insert(format!("{dir}{}", e.name().unwrap_or_default()));
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(Error::git("cannot list a tree"))?;
    }
    paths.extend(conflicts.iter().cloned());
    let mut entries = Vec::with_capacity(paths.len());
    for path in paths {
        let b = blob_at(base, &path);
        let o = blob_at(ours, &path);
        let t = blob_at(theirs, &path);
        let r = merged.get_path(Path::new(&path), 0).map(|e| e.id);
        let action = if conflicts.contains(&path) {
            Action::Conflict
        } else if o == r {
            if b.is_some() && o.is_none() && t.is_some() {
                Action::KeepDeleted
            } else {
                Action::Unchanged
            }
        } else if o.is_none() {
            // A file the render renamed arrives with the team's edits of the old path.
            if r == t {
                Action::Create
            } else {
                Action::Merge
            }
        } else if r.is_none() {
            Action::Remove
        } else if o == b {
            Action::Update
        } else {
            Action::Merge
        };
        let size = match t.or(r) {
            Some(id) => repo
                .find_blob(id)
                .map(|blob| blob.size())
                .map_err(Error::git("cannot read a file"))?,
            None => 0,
        };
        entries.push(Entry { path, action, size });
    }
    Ok(entries)
}

/// How the recorded scaffold was made: `adopted = true` under `[generator]` in `.infra-new.toml`
/// means `init` adopted a repository with its own code.
pub fn recorded_kind(answers_file: &str) -> Kind {
    let adopted = answers_file
        .parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get("generator")?.get("adopted")?.as_bool())
        .unwrap_or(false);
    if adopted { Kind::Adopted } else { Kind::Full }
}

/// The language of a repository, told by the build manifest at its root; `None` when there is
/// none or there are manifests of several languages.
pub fn detect_language(ws: &Workspace) -> Result<Option<(Language, &'static str)>, Error> {
    const MANIFESTS: &[(&str, Language)] = &[
        ("package.json", Language::Node),
        ("pyproject.toml", Language::Python),
        ("requirements.txt", Language::Python),
        ("go.mod", Language::Go),
        ("Cargo.toml", Language::Rust),
        ("pom.xml", Language::Java),
        ("build.gradle", Language::Java),
        ("build.gradle.kts", Language::Java),
    ];
    let mut found: Vec<(Language, &'static str)> = Vec::new();
    for (file, language) in MANIFESTS {
        if ws.head_has(file)? && !found.iter().any(|(l, _)| l == language) {
            found.push((*language, file));
        }
    }
    Ok(match found.as_slice() {
        [one] => Some(*one),
        _ => None,
    })
}
