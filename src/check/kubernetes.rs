//! Kubernetes rules (K8S…), over plain manifests and Kustomize trees.
//!
//! Every YAML document with a string `apiVersion` and `kind` is an object, except Kustomize's
//! own files and the tool configuration listed in [`objects`]. Objects are checked in sets, the
//! way they are deployed together:
//! - each Kustomize root (a kustomization no other one includes) with every file it reaches
//!   through `resources:`/`bases:`/`components:`, in the context of the kustomizations on the
//!   way (their `namespace:`, `images:`, name prefix/suffix and labels, see [`kustomize`]);
//! - all loose manifests (YAML objects no kustomization names) of the repository together;
//! - objects only an unused component names, per object only.
//!
//! Files a kustomization names as patches, configurations or generator inputs are never objects.
//!
//! With kubectl, each root is also built (`kubectl kustomize`) and the output checked: a finding
//! of the rendered output that the file-by-file check already made stays where it was (on the
//! file, where an ignore comment can cover it); one it did not make (an overlay's patch broke a
//! rule) is reported on the root's kustomization file; a file-by-file finding the rendered output
//! of its roots no longer has (an overlay fixed it) is dropped.

mod catalog;
mod kustomize;
mod objects;
mod render;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

pub use catalog::*;

use super::yaml::{self, Node};
use super::{Findings, Options};
use kustomize::{Context, Graph, dir_of};
use objects::{Hit, Item, Scope};

/// A YAML file that is not a CI or compose file: its documents may be Kubernetes objects,
/// Kustomizations or something else entirely.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub path: String,
    pub documents: Vec<Node>,
}

/// A document: (manifest index, document index).
type DocId = (usize, usize);

/// A finding of the file-by-file check, with the root it was found under (`None`: loose).
struct RawHit {
    root: Option<usize>,
    doc: DocId,
    hit: Hit,
}

/// What identifies "the same finding" between the file-by-file and the rendered check.
type Key = (&'static str, DocId, String);

/// File-by-file findings that are the same under several roots: (file, line, rule, message).
type GroupKey = (usize, Option<usize>, &'static str, String);

fn key(hit: &Hit, doc: DocId) -> Key {
    (hit.rule.id, doc, hit.subject.clone())
}

fn dir_label(dir: &str) -> &str {
    if dir.is_empty() { "." } else { dir }
}

pub fn check(
    root: &Path,
    manifests: &[Manifest],
    options: &Options,
    out: &mut Findings,
    notes: &mut Vec<String>,
) {
    let graph = Graph::build(root, manifests);
    // Each manifest's object documents: (document index, apiVersion, kind).
    let objects: Vec<Vec<(usize, &str, &str)>> = manifests
        .iter()
        .map(|m| {
            m.documents
                .iter()
                .enumerate()
                .filter_map(|(d, doc)| objects::object_kind(doc).map(|(a, k)| (d, a, k)))
                .collect()
        })
        .collect();

    // Where Argo CD Applications and Flux Kustomizations of this repository deploy directories:
    // objects there that name no namespace get the engine's.
    let destinations = objects::gitops_destinations(
        manifests
            .iter()
            .zip(&objects)
            .flat_map(|(m, docs)| docs.iter().map(|&(d, _, _)| &m.documents[d])),
    );
    let destination = |dir: &str| -> Option<&str> {
        destinations
            .iter()
            .filter(|(path, _)| {
                path.is_empty()
                    || dir == path
                    || dir
                        .strip_prefix(path.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            })
            .max_by_key(|(path, _)| path.len())
            .map(|(_, ns)| *ns)
    };
    let root_namespaces: Vec<Option<&str>> = graph
        .roots
        .iter()
        .map(|&r| destination(graph.kusts[r].dir))
        .collect();

    // What each root deploys, with the context of every file.
    let deployed: Vec<Vec<(usize, Context<'_>)>> = graph
        .roots
        .iter()
        .zip(&root_namespaces)
        .map(|(&r, &default_namespace)| {
            graph
                .files_of(r)
                .into_iter()
                .map(|(file, chain)| {
                    let mut context = graph.context(&chain);
                    context.default_namespace = default_namespace;
                    (file, context)
                })
                .collect()
        })
        .collect();
    let mut raw: Vec<RawHit> = Vec::new();
    let mut reached: HashMap<usize, BTreeSet<usize>> = HashMap::new();
    for (r, files) in deployed.iter().enumerate() {
        for (file, _) in files {
            reached.entry(*file).or_default().insert(r);
        }
        let (ids, hits) = run(manifests, &objects, files, Scope::Full);
        raw.extend(hits.into_iter().map(|hit| RawHit {
            root: Some(r),
            doc: ids[hit.item],
            hit,
        }));
    }

    // Loose manifests: every object file no kustomization names, checked together. A file in a
    // kustomization's directory that it does not name (a patch left over, a draft) is deployed
    // by nothing this check can see, and `kubectl apply -f` on that directory fails on the
    // kustomization file: it is left alone.
    let loose: Vec<(usize, Context<'_>)> = (0..manifests.len())
        .filter(|&i| {
            let dir = dir_of(&manifests[i].path);
            !objects[i].is_empty()
                && !graph.claimed.contains(&i)
                && !graph.broken_dirs.contains(dir)
                && !graph.has_kustomization(dir)
        })
        .map(|i| {
            let context = Context {
                default_namespace: destination(dir_of(&manifests[i].path)),
                ..Context::default()
            };
            (i, context)
        })
        .collect();
    let (ids, hits) = run(manifests, &objects, &loose, Scope::Full);
    raw.extend(hits.into_iter().map(|hit| RawHit {
        root: None,
        doc: ids[hit.item],
        hit,
    }));

    // Objects only an unused component reaches: what they say about themselves.
    let mut orphans: Vec<(usize, Context<'_>)> = Vec::new();
    let mut orphan_seen = HashSet::new();
    for &c in &graph.orphan_components {
        for (file, chain) in graph.files_of(c) {
            if !reached.contains_key(&file) && orphan_seen.insert(file) {
                orphans.push((file, graph.context(&chain)));
            }
        }
    }
    let (ids, hits) = run(manifests, &objects, &orphans, Scope::PerObject);
    raw.extend(hits.into_iter().map(|hit| RawHit {
        root: None,
        doc: ids[hit.item],
        hit,
    }));

    // Rendering: per root, the keys the rendered output confirms (None: not rendered).
    let mut confirmed: Vec<Option<HashSet<Key>>> = vec![None; graph.roots.len()];
    match &options.kubectl {
        None if !graph.roots.is_empty() => notes.push(format!(
            "kubectl not found: {} Kustomize root(s) checked file by file, without rendering \
             (install kubectl to check the rendered overlays)",
            graph.roots.len()
        )),
        None => {}
        Some(kubectl) => {
            let dirs: Vec<_> = graph
                .roots
                .iter()
                .map(|&r| root.join(graph.kusts[r].dir))
                .collect();
            let built = render::build_all(kubectl, &dirs);
            let raw_keys: HashSet<(usize, Key)> = raw
                .iter()
                .filter_map(|h| Some((h.root?, key(&h.hit, h.doc))))
                .collect();
            for (r, result) in built.into_iter().enumerate() {
                let kust = &graph.kusts[graph.roots[r]];
                let rendered = result.and_then(|text| {
                    yaml::parse(&text).map_err(|e| format!("its output is not YAML: {}", e.message))
                });
                match rendered {
                    Err(reason) => notes.push(format!(
                        "kustomize build failed for {}: {reason}",
                        dir_label(kust.dir)
                    )),
                    Ok(documents) => {
                        confirmed[r] = Some(check_rendered(
                            manifests,
                            &objects,
                            &deployed[r],
                            &documents,
                            |k| raw_keys.contains(&(r, k.clone())),
                            kust.path,
                            dir_label(kust.dir),
                            root_namespaces[r],
                            out,
                        ));
                    }
                }
            }
        }
    }

    // File-by-file findings, grouped over the roots that share a file.
    let mut grouped: BTreeMap<GroupKey, (&Hit, BTreeSet<usize>)> = BTreeMap::new();
    for h in &raw {
        if let Some(r) = h.root {
            if let Some(keys) = &confirmed[r] {
                if !keys.contains(&key(&h.hit, h.doc)) {
                    continue;
                }
            }
        }
        let entry = grouped
            .entry((h.doc.0, h.hit.line, h.hit.rule.id, h.hit.message.clone()))
            .or_insert((&h.hit, BTreeSet::new()));
        entry.1.extend(h.root);
    }
    for ((file, line, _, message), (hit, roots)) in grouped {
        let all = reached.get(&file);
        let message = match all {
            Some(all) if !roots.is_empty() && &roots != all => {
                let via: Vec<&str> = roots
                    .iter()
                    .map(|&r| dir_label(graph.kusts[graph.roots[r]].dir))
                    .collect();
                format!("{message} (via {})", via.join(", "))
            }
            _ => message,
        };
        out.add(hit.rule, &manifests[file].path, line, message);
    }
}

/// Runs the rules over the objects of `files`; returns which document each item is.
fn run<'a>(
    manifests: &'a [Manifest],
    objects: &[Vec<(usize, &'a str, &'a str)>],
    files: &'a [(usize, Context<'a>)],
    scope: Scope,
) -> (Vec<DocId>, Vec<Hit>) {
    let mut ids = Vec::new();
    let mut items = Vec::new();
    for (file, ctx) in files {
        for &(doc, api, kind) in &objects[*file] {
            ids.push((*file, doc));
            items.push(Item {
                doc: &manifests[*file].documents[doc],
                api,
                kind,
                ctx,
            });
        }
    }
    let mut hits = Vec::new();
    objects::check(&items, scope, &mut hits);
    (ids, hits)
}

/// Checks one root's rendered output. Each rendered object is traced back to the document it
/// came from (kind and name, allowing the root's name prefix/suffix). A finding the file-by-file
/// check already made on that document (`already`) is left to it; any other is reported on the
/// root's kustomization file. Returns the keys of every rendered finding traced to a document,
/// so file-by-file findings the rendered output does not confirm can be dropped.
#[allow(clippy::too_many_arguments)]
fn check_rendered(
    manifests: &[Manifest],
    objects: &[Vec<(usize, &str, &str)>],
    files: &[(usize, Context<'_>)],
    documents: &[Node],
    already: impl Fn(&Key) -> bool,
    kustomization: &str,
    label: &str,
    default_namespace: Option<&str>,
    out: &mut Findings,
) -> HashSet<Key> {
    // (kind, rendered name) and (kind, raw name) → document.
    let mut by_name: HashMap<(&str, String), DocId> = HashMap::new();
    let mut by_raw_name: HashMap<(&str, &str), DocId> = HashMap::new();
    for (file, ctx) in files {
        for &(doc, _, kind) in &objects[*file] {
            let name = manifests[*file].documents[doc]
                .at(&["metadata", "name"])
                .and_then(Node::as_str)
                .unwrap_or("");
            by_name
                .entry((kind, format!("{}{name}{}", ctx.prefix, ctx.suffix)))
                .or_insert((*file, doc));
            by_raw_name.entry((kind, name)).or_insert((*file, doc));
        }
    }
    let context = Context {
        kustomized: true,
        default_namespace,
        ..Context::default()
    };
    let items: Vec<Item<'_>> = documents
        .iter()
        .filter_map(|doc| {
            let (api, kind) = objects::object_kind(doc)?;
            Some(Item {
                doc,
                api,
                kind,
                ctx: &context,
            })
        })
        .collect();
    let mut hits = Vec::new();
    objects::check(&items, Scope::Full, &mut hits);
    let mut confirmed = HashSet::new();
    for hit in hits {
        let item = &items[hit.item];
        let name = item.name();
        let origin = by_name
            .get(&(item.kind, name.to_owned()))
            .or_else(|| by_raw_name.get(&(item.kind, name)))
            .copied();
        if let Some(doc) = origin {
            let key = key(&hit, doc);
            let known = already(&key);
            confirmed.insert(key);
            if known {
                continue;
            }
        }
        // Object-level messages start with the object ("Service \"api\" has…"): say it once.
        let object = format!("{}/{name}", item.kind);
        let message = match hit
            .message
            .strip_prefix(&format!("{} \"{name}\" ", item.kind))
        {
            Some(rest) => format!("{label} (rendered): {object} {rest}"),
            None => format!("{label} (rendered): {object}: {}", hit.message),
        };
        out.add(hit.rule, kustomization, None, message);
    }
    confirmed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifests(files: &[(&str, &str)]) -> Vec<Manifest> {
        files
            .iter()
            .map(|(path, text)| Manifest {
                path: (*path).to_owned(),
                documents: yaml::parse(text).unwrap(),
            })
            .collect()
    }

    fn run(files: &[(&str, &str)]) -> (Vec<String>, Vec<String>) {
        let manifests = manifests(files);
        let mut out = Findings::default();
        let mut notes = Vec::new();
        check(
            Path::new("/nonexistent"),
            &manifests,
            &Options::default(),
            &mut out,
            &mut notes,
        );
        let found = out
            .into_vec()
            .iter()
            .map(|f| format!("{}:{} {}", f.path, f.line.unwrap_or(0), f.rule.id))
            .collect();
        (found, notes)
    }

    #[test]
    fn odd_shapes_are_skipped_without_panicking() {
        let (found, _) = run(&[
            ("a.yaml", "apiVersion: v1\nkind: Pod\n"),
            (
                "b.yaml",
                "apiVersion: v1\nkind: Pod\nmetadata: ~\nspec: [1, 2]\n",
            ),
            (
                "c.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x, namespace: n}\n\
                 spec: {replicas: many, template: {spec: {containers: [3, {name: 5}], \
                 initContainers: oops}}}\n",
            ),
            ("d.yaml", "- just\n- a list\n"),
            ("e.yaml", "apiVersion: 1\nkind: [x]\n"),
            (
                "k/kustomization.yaml",
                "resources: notalist\ncomponents: [1, {a: b}]\nimages: 3\nlabels: [x]\n",
            ),
            (
                "loop/kustomization.yaml",
                "resources: [../loop2, ../../../outside, https://github.com/x/y]\n",
            ),
            ("loop2/kustomization.yaml", "resources: [../loop]\n"),
        ]);
        // The pods without a usable spec only lack a namespace; of the Deployment's containers
        // the mapping is checked (it has nothing), and `replicas: many` counts as running pods.
        assert_eq!(
            found,
            [
                "a.yaml:1 K8S011",
                "b.yaml:3 K8S011",
                "c.yaml:1 K8S009",
                "c.yaml:1 K8S010",
                "c.yaml:4 K8S001",
                "c.yaml:4 K8S002",
                "c.yaml:4 K8S003",
                "c.yaml:4 K8S004",
                "c.yaml:4 K8S005",
                "c.yaml:4 K8S006",
                "c.yaml:4 K8S007",
            ]
        );
    }

    #[test]
    fn patches_are_not_objects_and_overlays_give_context() {
        let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  \
            replicas: 0\n  template:\n    spec:\n      securityContext: {runAsNonRoot: true}\n      \
            containers:\n      - name: api\n        image: app\n        resources:\n          \
            requests: {cpu: 1m, memory: 1Mi}\n          limits: {cpu: 1m, memory: 1Mi}\n        \
            securityContext:\n          allowPrivilegeEscalation: false\n          \
            readOnlyRootFilesystem: true\n          capabilities: {drop: [ALL]}\n        \
            readinessProbe: {exec: {command: [x]}}\n        livenessProbe: {exec: {command: [x]}}\n";
        let (found, notes) = run(&[
            ("base/kustomization.yaml", "resources: [deployment.yaml]\n"),
            ("base/deployment.yaml", deployment),
            (
                "dev/kustomization.yaml",
                "resources: [../base]\nnamespace: dev\npatches:\n- path: patch.yaml\nimages:\n\
                 - {name: app, newTag: '1.0'}\n",
            ),
            (
                "dev/patch.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\n",
            ),
            (
                "prod/kustomization.yaml",
                "resources: [../base]\nnamespace: prod\nimages:\n- {name: app, digest: 'sha256:0'}\n",
            ),
        ]);
        assert!(found.is_empty(), "{found:?}");
        assert_eq!(
            notes,
            [
                "kubectl not found: 2 Kustomize root(s) checked file by file, without rendering \
              (install kubectl to check the rendered overlays)"
            ]
        );
    }
}
