//! The Kustomize graph, read from the files themselves (no kustomize needed): which directories
//! are kustomizations, which files each one deploys (`resources:`, `bases:`, `components:`),
//! which files are patches or configuration and so never objects of their own, and what every
//! kustomization on the way from a root changes about the objects below it (namespace, images,
//! name prefix and suffix, labels).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::Manifest;
use crate::check::yaml::Node;

/// The file names kustomize looks for in a directory.
const KUSTOMIZATION_NAMES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// What one kustomization (or component) does to the objects it includes.
#[derive(Debug, Default)]
pub(crate) struct Layer<'a> {
    pub namespace: Option<&'a str>,
    /// `images:` entries, in file order.
    pub images: Vec<&'a Node>,
    pub prefix: Option<&'a str>,
    pub suffix: Option<&'a str>,
    /// Labels added to pod templates (`commonLabels`, `labels` with templates or selectors).
    pub template_labels: Vec<(&'a str, &'a str)>,
    /// Labels added to selectors (`commonLabels`, `labels` with `includeSelectors`).
    pub selector_labels: Vec<(&'a str, &'a str)>,
}

#[derive(Debug)]
pub(crate) struct Kust<'a> {
    /// The kustomization file, relative to the checked root.
    pub path: &'a str,
    /// Its directory ("" for the root).
    pub dir: &'a str,
    pub component: bool,
    /// Object files (manifest indices) listed in `resources:`/`bases:`.
    pub files: Vec<usize>,
    /// Kustomizations listed in `resources:`/`bases:`.
    pub bases: Vec<usize>,
    /// Components listed in `components:`.
    pub components: Vec<usize>,
    pub layer: Layer<'a>,
}

/// What a chain of kustomizations from a root does to one file's objects.
#[derive(Debug, Default, Clone)]
pub(crate) struct Context<'a> {
    /// Whether a Kustomize root deploys the file (else it is a loose manifest).
    pub kustomized: bool,
    /// The outermost `namespace:` on the way.
    pub namespace: Option<&'a str>,
    /// Where a GitOps engine in the repository puts objects that name no namespace (an Argo CD
    /// Application's `destination.namespace`, a Flux Kustomization's `targetNamespace`).
    pub default_namespace: Option<&'a str>,
    /// `images:` entries, innermost kustomization first (the order kustomize applies them).
    pub images: Vec<&'a Node>,
    pub prefix: String,
    pub suffix: String,
    pub template_labels: Vec<(&'a str, &'a str)>,
    pub selector_labels: Vec<(&'a str, &'a str)>,
}

impl<'a> Context<'a> {
    fn apply(&mut self, layer: &Layer<'a>) {
        if layer.namespace.is_some() {
            self.namespace = layer.namespace;
        }
        self.images.extend(layer.images.iter().copied());
        if let Some(prefix) = layer.prefix {
            self.prefix.insert_str(0, prefix);
        }
        if let Some(suffix) = layer.suffix {
            self.suffix.push_str(suffix);
        }
        self.template_labels
            .extend(layer.template_labels.iter().copied());
        self.selector_labels
            .extend(layer.selector_labels.iter().copied());
    }
}

#[derive(Debug, Default)]
pub(crate) struct Graph<'a> {
    pub kusts: Vec<Kust<'a>>,
    /// Kustomizations (not components) that no other kustomization includes: what gets built.
    pub roots: Vec<usize>,
    /// Components nothing includes: their objects are checked one by one only.
    pub orphan_components: Vec<usize>,
    /// Manifests some kustomization names in any role (resource, patch, configuration…), and
    /// the kustomization files themselves: none of them is a loose manifest.
    pub claimed: HashSet<usize>,
    /// Directories holding a kustomization file that could not be read as one (a parse error,
    /// already reported): the objects there are left alone, their context is unknown.
    pub broken_dirs: HashSet<&'a str>,
    /// Directories holding a kustomization or component.
    dirs: HashSet<&'a str>,
}

pub(crate) fn dir_of(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

fn file_name(path: &str) -> &str {
    path.rfind('/').map_or(path, |i| &path[i + 1..])
}

/// `rel` resolved against `dir`, normalised; `None` when it leaves the checked tree, is remote
/// (a URL, `github.com/…`) or absolute.
fn join(dir: &str, rel: &str) -> Option<String> {
    let rel = rel.trim();
    if rel.is_empty() || rel.starts_with('/') || rel.contains("://") || rel.starts_with("git@") {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            _ => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// Whether a manifest's first document reads as a kustomization file (by name and content).
fn kustomization_doc(manifest: &Manifest) -> Option<(&Node, bool)> {
    if !KUSTOMIZATION_NAMES.contains(&file_name(&manifest.path)) {
        return None;
    }
    let doc = manifest.documents.first().filter(|d| d.is_map())?;
    let api = doc.get("apiVersion").and_then(Node::as_str);
    let kind = doc.get("kind").and_then(Node::as_str);
    if api.is_some_and(|a| !a.starts_with("kustomize.config.k8s.io")) {
        return None;
    }
    match kind {
        None | Some("Kustomization") => Some((doc, false)),
        Some("Component") => Some((doc, true)),
        Some(_) => None,
    }
}

fn strings(node: Option<&Node>) -> impl Iterator<Item = &str> {
    node.map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(Node::as_str)
}

fn labels_of(node: Option<&Node>) -> Vec<(&str, &str)> {
    node.map(|n| {
        n.entries()
            .filter_map(|(k, v)| Some((k, v.as_str()?)))
            .collect()
    })
    .unwrap_or_default()
}

fn layer(doc: &Node) -> Layer<'_> {
    let mut layer = Layer {
        namespace: doc.get("namespace").and_then(Node::as_str),
        images: doc
            .get("images")
            .map(|n| n.items().iter().filter(|i| i.is_map()).collect())
            .unwrap_or_default(),
        prefix: doc.get("namePrefix").and_then(Node::as_str),
        suffix: doc.get("nameSuffix").and_then(Node::as_str),
        ..Layer::default()
    };
    let common = labels_of(doc.get("commonLabels"));
    layer.template_labels.extend(common.iter().copied());
    layer.selector_labels.extend(common);
    for entry in doc.get("labels").map(Node::items).unwrap_or_default() {
        let pairs = labels_of(entry.get("pairs"));
        let selectors = entry.get("includeSelectors").is_some_and(Node::is_true);
        let templates = entry.get("includeTemplates").is_some_and(Node::is_true);
        if selectors {
            layer.selector_labels.extend(pairs.iter().copied());
        }
        if selectors || templates {
            layer.template_labels.extend(pairs);
        }
    }
    layer
}

/// The files a kustomization names in a role other than "resource": patches, configurations,
/// generator inputs, replacement sources, schemas.
fn auxiliary_files(doc: &Node) -> Vec<&str> {
    let mut files = Vec::new();
    fn path_of(item: &Node) -> Option<&str> {
        item.get("path").and_then(Node::as_str)
    }
    for key in ["patches", "patchesJson6902", "replacements"] {
        for item in doc.get(key).map(Node::items).unwrap_or_default() {
            files.extend(path_of(item));
        }
    }
    // Items are file names or inline patches (which span lines).
    files.extend(strings(doc.get("patchesStrategicMerge")).filter(|s| !s.contains('\n')));
    for key in [
        "configurations",
        "crds",
        "generators",
        "transformers",
        "validators",
    ] {
        files.extend(strings(doc.get(key)).filter(|s| !s.contains('\n')));
    }
    files.extend(doc.get("openapi").and_then(path_of));
    for key in ["configMapGenerator", "secretGenerator"] {
        for item in doc.get(key).map(Node::items).unwrap_or_default() {
            // `files:` entries may be `key=path`.
            files.extend(
                strings(item.get("files")).map(|f| f.split_once('=').map_or(f, |(_, p)| p)),
            );
            files.extend(strings(item.get("envs")));
            files.extend(item.get("env").and_then(Node::as_str));
        }
    }
    for item in doc.get("helmCharts").map(Node::items).unwrap_or_default() {
        files.extend(item.get("valuesFile").and_then(Node::as_str));
        files.extend(strings(item.get("additionalValuesFiles")));
    }
    files
}

impl<'a> Graph<'a> {
    pub fn build(root: &Path, manifests: &'a [Manifest]) -> Graph<'a> {
        let mut graph = Graph::default();
        let by_path: HashMap<&str, usize> = manifests
            .iter()
            .enumerate()
            .map(|(i, m)| (m.path.as_str(), i))
            .collect();
        let mut docs = Vec::new();
        let mut by_dir: HashMap<&str, usize> = HashMap::new();
        for (index, manifest) in manifests.iter().enumerate() {
            let Some((doc, component)) = kustomization_doc(manifest) else {
                continue;
            };
            let dir = dir_of(&manifest.path);
            if by_dir.contains_key(dir) {
                continue;
            }
            by_dir.insert(dir, graph.kusts.len());
            graph.claimed.insert(index);
            docs.push(doc);
            graph.kusts.push(Kust {
                path: &manifest.path,
                dir,
                component,
                files: Vec::new(),
                bases: Vec::new(),
                components: Vec::new(),
                layer: layer(doc),
            });
        }
        // A kustomization file on disk that is not among the parsed kustomizations (it failed
        // to parse, or has no extension): its directory's context is unknown.
        let mut seen_dirs = HashSet::new();
        for manifest in manifests {
            let dir = dir_of(&manifest.path);
            if by_dir.contains_key(dir) || !seen_dirs.insert(dir) {
                continue;
            }
            let on_disk = KUSTOMIZATION_NAMES
                .iter()
                .any(|name| root.join(dir).join(name).is_file());
            if on_disk {
                graph.broken_dirs.insert(dir);
            }
        }

        graph.dirs = by_dir.keys().copied().collect();
        let mut included = vec![false; graph.kusts.len()];
        for (k, doc) in docs.iter().enumerate() {
            let dir = graph.kusts[k].dir;
            let resolve = |rel: &str| -> Option<(Option<usize>, Option<usize>)> {
                let path = join(dir, rel)?;
                Some((
                    by_path.get(path.as_str()).copied(),
                    by_dir.get(path.as_str()).copied(),
                ))
            };
            let mut files = Vec::new();
            let mut bases = Vec::new();
            let mut components = Vec::new();
            for key in ["resources", "bases"] {
                for rel in strings(doc.get(key)) {
                    match resolve(rel) {
                        Some((Some(file), _)) => files.push(file),
                        Some((None, Some(kust))) if kust != k => bases.push(kust),
                        _ => {}
                    }
                }
            }
            for rel in strings(doc.get("components")) {
                if let Some((_, Some(kust))) = resolve(rel) {
                    if kust != k {
                        components.push(kust);
                    }
                }
            }
            for rel in auxiliary_files(doc) {
                match resolve(rel) {
                    Some((Some(file), _)) => {
                        graph.claimed.insert(file);
                    }
                    // A transformer or generator directory: built by its parent, not a root.
                    Some((None, Some(kust))) if kust != k => included[kust] = true,
                    _ => {}
                }
            }
            for &kust in bases.iter().chain(&components) {
                included[kust] = true;
            }
            graph.claimed.extend(files.iter().copied());
            let entry = &mut graph.kusts[k];
            entry.files = files;
            entry.bases = bases;
            entry.components = components;
        }
        for (k, kust) in graph.kusts.iter().enumerate() {
            match (kust.component, included[k]) {
                (false, false) => graph.roots.push(k),
                (true, false) => graph.orphan_components.push(k),
                _ => {}
            }
        }
        graph
    }

    /// Whether `dir` holds a kustomization (or component) file.
    pub fn has_kustomization(&self, dir: &str) -> bool {
        self.dirs.contains(dir)
    }

    /// The object files `start` deploys, each with the chain of kustomizations from `start` to
    /// the one that lists it (first path found wins when a file is reached twice).
    pub fn files_of(&self, start: usize) -> Vec<(usize, Vec<usize>)> {
        let mut found = Vec::new();
        let mut seen = HashSet::new();
        let mut chain = vec![start];
        self.walk(&mut chain, &mut seen, &mut found);
        found
    }

    fn walk(
        &self,
        chain: &mut Vec<usize>,
        seen: &mut HashSet<usize>,
        found: &mut Vec<(usize, Vec<usize>)>,
    ) {
        let kust = &self.kusts[*chain.last().expect("a chain is never empty")];
        for &file in &kust.files {
            if seen.insert(file) {
                found.push((file, chain.clone()));
            }
        }
        for &next in kust.bases.iter().chain(&kust.components) {
            // A cycle is kustomize's error to report; stop following it.
            if chain.contains(&next) || chain.len() > 64 {
                continue;
            }
            chain.push(next);
            self.walk(chain, seen, found);
            chain.pop();
        }
    }

    /// What the chain (root first) does to the objects of a file the last kustomization lists.
    /// Kustomize applies the innermost kustomization first; at each level the components run
    /// before the kustomization's own transformers.
    pub fn context(&self, chain: &[usize]) -> Context<'a> {
        let mut context = Context {
            kustomized: true,
            ..Context::default()
        };
        let mut from_component: Option<usize> = None;
        for &k in chain.iter().rev() {
            self.apply(k, from_component, &mut context, 0);
            from_component = self.kusts[k].component.then_some(k);
        }
        context
    }

    /// Applies kustomization `k`: its components (except `skip`, already applied as the level
    /// below) and then its own layer.
    fn apply(&self, k: usize, skip: Option<usize>, context: &mut Context<'a>, depth: usize) {
        if depth > 16 {
            return;
        }
        for &component in &self.kusts[k].components {
            if Some(component) != skip && component != k {
                self.apply(component, None, context, depth + 1);
            }
        }
        context.apply(&self.kusts[k].layer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_inside_the_tree_only() {
        assert_eq!(
            join("deploy/overlays/dev", "../../base").as_deref(),
            Some("deploy/base")
        );
        assert_eq!(join("", "./app.yaml").as_deref(), Some("app.yaml"));
        assert_eq!(join("a", "../../x"), None);
        assert_eq!(
            join("a", "https://github.com/x/y//base?ref=v1"),
            None,
            "remote"
        );
    }
}
