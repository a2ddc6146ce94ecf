//! The rules themselves, over a set of objects: per container (probes, resources, security
//! context, image) and across objects (disruption budgets, autoscalers, namespaces).

use std::collections::{HashMap, HashSet};

use super::catalog::*;
use super::kustomize::Context;
use crate::check::Rule;
use crate::check::yaml::{Node, Value};

/// apiVersion groups whose documents have `apiVersion` and `kind` but are not objects in a
/// cluster: tool configuration (kind, k3d, skaffold, kubeadm, kubeconfig), catalog entries,
/// KRM function and kustomize configuration.
const NOT_CLUSTER_OBJECTS: &[&str] = &[
    "kustomize.config.k8s.io",
    "builtin",
    "backstage.io",
    "skaffold",
    "kind.x-k8s.io",
    "k3d.io",
    "ctlptl.dev",
    "kubeadm.k8s.io",
    "kubelet.config.k8s.io",
    "kubeproxy.config.k8s.io",
    "apiserver.config.k8s.io",
    "audit.k8s.io",
    "config.kubernetes.io",
    "kpt.dev",
    "fn.kpt.dev",
    "clientcmd.k8s.io",
];

/// Cluster-scoped kinds: no namespace to set.
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "IngressClass",
    "RuntimeClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "APIService",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "VolumeSnapshotClass",
    "VolumeSnapshotContent",
    "CertificateSigningRequest",
    "FlowSchema",
    "PriorityLevelConfiguration",
    "PodSecurityPolicy",
    "GatewayClass",
    "ConstraintTemplate",
    "ClusterIssuer",
    "ClusterSecretStore",
    "ClusterExternalSecret",
    "ClusterPolicy",
    "ClusterAnalysisTemplate",
    "ClusterWorkflowTemplate",
    "CompositeResourceDefinition",
    "Composition",
    "Provider",
    "ProviderConfig",
];

/// Kinds starting with `Cluster` are cluster-scoped by convention, except these.
const NAMESPACED_CLUSTER_KINDS: &[&str] = &[
    "ClusterServiceVersion",
    "ClusterLogForwarder",
    "ClusterLogging",
];

fn cluster_scoped(kind: &str) -> bool {
    CLUSTER_SCOPED.contains(&kind)
        || (kind.starts_with("Cluster") && !NAMESPACED_CLUSTER_KINDS.contains(&kind))
}

/// A document's `apiVersion` and `kind` when it is an object that goes to a cluster.
pub(crate) fn object_kind(doc: &Node) -> Option<(&str, &str)> {
    let api = doc.get("apiVersion")?.as_str()?;
    let kind = doc.get("kind")?.as_str()?;
    let group = api.split('/').next().unwrap_or(api);
    if NOT_CLUSTER_OBJECTS.contains(&group)
        || kind == "List"
        || kind.ends_with("List")
        || (api == "v1" && kind == "Config")
    {
        return None;
    }
    Some((api, kind))
}

/// Directories a GitOps engine described in the repository deploys, with the namespace it gives
/// objects that name none: Argo CD Applications (`source.path` or `sources[].path`, and
/// `destination.namespace`) and Flux Kustomizations (`path`, `targetNamespace`).
pub(crate) fn gitops_destinations<'a>(
    docs: impl Iterator<Item = &'a Node>,
) -> Vec<(String, &'a str)> {
    let mut found = Vec::new();
    for doc in docs {
        let Some((api, kind)) = object_kind(doc) else {
            continue;
        };
        let spec = doc.get("spec");
        let (paths, namespace): (Vec<&str>, _) = match (api.split('/').next(), kind) {
            (Some("argoproj.io"), "Application") => {
                let single = spec.and_then(|s| s.at(&["source", "path"]));
                let many = spec
                    .and_then(|s| s.get("sources"))
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|source| source.get("path"));
                (
                    single
                        .into_iter()
                        .chain(many)
                        .filter_map(Node::as_str)
                        .collect(),
                    spec.and_then(|s| s.at(&["destination", "namespace"])),
                )
            }
            (Some("kustomize.toolkit.fluxcd.io"), "Kustomization") => (
                spec.and_then(|s| s.get("path"))
                    .and_then(Node::as_str)
                    .into_iter()
                    .collect(),
                spec.and_then(|s| s.get("targetNamespace")),
            ),
            _ => continue,
        };
        let Some(namespace) = namespace.and_then(Node::as_str).filter(|n| !n.is_empty()) else {
            continue;
        };
        for path in paths {
            let path = path.trim().trim_start_matches("./").trim_matches('/');
            let path = if path == "." { "" } else { path };
            if !path.contains("..") {
                found.push((path.to_owned(), namespace));
            }
        }
    }
    found
}

/// One object to check, and what the kustomizations on the way do to it.
pub(crate) struct Item<'a> {
    pub doc: &'a Node,
    pub api: &'a str,
    pub kind: &'a str,
    pub ctx: &'a Context<'a>,
}

impl<'a> Item<'a> {
    pub fn name(&self) -> &'a str {
        let meta = self.doc.get("metadata");
        meta.and_then(|m| m.get("name"))
            .or_else(|| meta.and_then(|m| m.get("generateName")))
            .and_then(Node::as_str)
            .unwrap_or("")
    }

    /// The namespace the object ends up in: a kustomization's `namespace:` overrides the file's.
    fn namespace(&self) -> Option<&'a str> {
        self.ctx
            .namespace
            .or_else(|| {
                self.doc
                    .at(&["metadata", "namespace"])
                    .and_then(Node::as_str)
            })
            .or(self.ctx.default_namespace)
    }

    fn is_rollout(&self) -> bool {
        self.kind == "Rollout" && self.api.starts_with("argoproj.io/")
    }

    /// `spec.workloadRef.name` of a Rollout that borrows a Deployment's pod template.
    fn workload_ref(&self) -> Option<&'a str> {
        if !self.is_rollout() {
            return None;
        }
        let reference = self.doc.at(&["spec", "workloadRef"])?;
        let kind = reference.get("kind").and_then(Node::as_str);
        if kind.is_some_and(|k| k != "Deployment") {
            return None;
        }
        reference.get("name").and_then(Node::as_str)
    }

    /// The pod template (its `metadata` and `spec` parent) of a workload.
    fn template(&self) -> Option<&'a Node> {
        match self.kind {
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
                self.doc.at(&["spec", "template"])
            }
            "CronJob" => self.doc.at(&["spec", "jobTemplate", "spec", "template"]),
            "Rollout" if self.is_rollout() && self.workload_ref().is_none() => {
                self.doc.at(&["spec", "template"])
            }
            _ => None,
        }
    }
}

/// One broken rule, on one object of the set.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub rule: &'static Rule,
    /// Index into the checked items.
    pub item: usize,
    pub line: Option<usize>,
    /// What in the object: a container's name, or "" for the object as a whole.
    pub subject: String,
    pub message: String,
}

/// Which rules to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Everything: the set is what gets deployed together.
    Full,
    /// Only what one object says about itself (the rest of its deployment is unknown).
    PerObject,
}

pub(crate) fn check(items: &[Item<'_>], scope: Scope, hits: &mut Vec<Hit>) {
    for (index, item) in items.iter().enumerate() {
        per_object(index, item, hits);
    }
    if scope == Scope::Full {
        across(items, hits);
        for (index, item) in items.iter().enumerate() {
            namespace(index, item, hits);
        }
    }
}

fn key_line(node: &Node, key: &str) -> Option<usize> {
    match &node.value {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, _)| k.line),
        _ => None,
    }
}

fn per_object(index: usize, item: &Item<'_>, hits: &mut Vec<Hit>) {
    let (spec, probes) = if item.kind == "Pod" {
        let Some(spec) = item.doc.get("spec") else {
            return;
        };
        let restart = spec.get("restartPolicy").and_then(Node::as_str);
        (spec, !matches!(restart, Some("Never" | "OnFailure")))
    } else {
        let Some(spec) = item.template().and_then(|t| t.get("spec")) else {
            return;
        };
        (spec, !matches!(item.kind, "Job" | "CronJob"))
    };
    let pod = PodSpec {
        security: spec.get("securityContext"),
        windows: spec.at(&["os", "name"]).and_then(Node::as_str) == Some("windows"),
    };
    let containers = spec.get("containers").map(Node::items).unwrap_or_default();
    let inits = spec
        .get("initContainers")
        .map(Node::items)
        .unwrap_or_default();
    for container in containers.iter().filter(|c| c.is_map()) {
        check_container(index, item, &pod, container, probes, hits);
    }
    for container in inits.iter().filter(|c| c.is_map()) {
        let sidecar = container.get("restartPolicy").and_then(Node::as_str) == Some("Always");
        check_container(index, item, &pod, container, probes && sidecar, hits);
    }
}

struct PodSpec<'a> {
    security: Option<&'a Node>,
    windows: bool,
}

fn check_container(
    index: usize,
    item: &Item<'_>,
    pod: &PodSpec<'_>,
    container: &Node,
    probes: bool,
    hits: &mut Vec<Hit>,
) {
    let name = container
        .get("name")
        .and_then(Node::as_str)
        .unwrap_or("(unnamed)");
    let mut hit = |rule: &'static Rule, line: usize, message: String| {
        hits.push(Hit {
            rule,
            item: index,
            line: Some(line),
            subject: name.to_owned(),
            message,
        });
    };
    let at = container.line;
    let who = format!("container \"{name}\"");

    if probes {
        let missing: Vec<&str> = ["readinessProbe", "livenessProbe"]
            .into_iter()
            .filter(|p| container.get(p).is_none_or(|n| !n.is_map()))
            .collect();
        if !missing.is_empty() {
            hit(
                &K8S001,
                at,
                format!("{who} has no {}", missing.join(" and no ")),
            );
        }
    }

    let resources = container.get("resources");
    let missing = |kind: &str| -> Vec<&'static str> {
        let set = resources.and_then(|r| r.get(kind));
        ["cpu", "memory"]
            .into_iter()
            .filter(|r| {
                set.and_then(|s| s.get(r))
                    .is_none_or(|v| v.as_str().is_none_or(str::is_empty))
            })
            .collect()
    };
    let requests = missing("requests");
    if !requests.is_empty() {
        hit(
            &K8S002,
            at,
            format!("{who} sets no {} request", requests.join(" or ")),
        );
    }
    let limits = missing("limits");
    if !limits.is_empty() {
        hit(
            &K8S003,
            at,
            format!("{who} sets no {} limit", limits.join(" or ")),
        );
    }

    let own = container.get("securityContext");
    let effective = |key: &str| -> Option<&Node> {
        own.and_then(|s| s.get(key))
            .filter(|n| !n.is_null())
            .or_else(|| {
                pod.security
                    .and_then(|s| s.get(key))
                    .filter(|n| !n.is_null())
            })
    };
    let user = effective("runAsUser");
    let uid = user
        .and_then(Node::as_str)
        .and_then(|u| u.parse::<u64>().ok());
    let non_root = effective("runAsNonRoot");
    match (uid, non_root) {
        (Some(0), _) => hit(
            &K8S004,
            user.map_or(at, |u| u.line),
            format!("{who} runs as root (runAsUser: 0)"),
        ),
        (_, Some(flag)) if flag.is_true() => {}
        (Some(_), _) => {}
        (None, Some(flag)) => hit(
            &K8S004,
            flag.line,
            format!("{who} may run as root: runAsNonRoot is not true"),
        ),
        (None, None) => hit(
            &K8S004,
            at,
            format!(
                "{who} may run as root: neither it nor the pod sets runAsNonRoot: true or a \
                 non-zero runAsUser"
            ),
        ),
    }

    let field = |key: &str| own.and_then(|s| s.get(key));
    if let Some(privileged) = field("privileged").filter(|p| p.is_true()) {
        hit(&K8S005, privileged.line, format!("{who} runs privileged"));
    } else if !pod.windows {
        match field("allowPrivilegeEscalation") {
            Some(flag) if flag.is_false() => {}
            Some(flag) if !flag.is_null() => hit(
                &K8S005,
                flag.line,
                format!("{who} allows privilege escalation"),
            ),
            _ => hit(
                &K8S005,
                at,
                format!("{who} does not set allowPrivilegeEscalation: false"),
            ),
        }
    }

    if !pod.windows {
        match field("readOnlyRootFilesystem") {
            Some(flag) if flag.is_true() => {}
            Some(flag) if !flag.is_null() => hit(
                &K8S006,
                flag.line,
                format!("{who} has a writable root filesystem"),
            ),
            _ => hit(
                &K8S006,
                at,
                format!("{who} does not set readOnlyRootFilesystem: true"),
            ),
        }

        let drop = own.and_then(|s| s.at(&["capabilities", "drop"]));
        let dropped: Vec<&str> = drop
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(Node::as_str)
            .collect();
        if !dropped.iter().any(|c| c.eq_ignore_ascii_case("ALL")) {
            match drop.filter(|d| !d.is_null()) {
                Some(drop) => hit(
                    &K8S007,
                    drop.line,
                    format!("{who} drops [{}], not ALL capabilities", dropped.join(", ")),
                ),
                None => hit(&K8S007, at, format!("{who} drops no capabilities")),
            }
        }
    }

    if let Some(image) = container.get("image").filter(|i| i.as_str().is_some()) {
        check_image(image, &who, item.ctx, &mut hit);
    }
}

/// An image reference split at its tag and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ImageRef {
    name: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl ImageRef {
    fn parse(text: &str) -> ImageRef {
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest.to_owned())),
            None => (text, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(colon) => (
                &rest[..last_slash + colon],
                Some(rest[last_slash + colon + 1..].to_owned()),
            ),
            None => (rest, None),
        };
        ImageRef {
            name: name.to_owned(),
            tag,
            digest,
        }
    }

    fn render(&self) -> String {
        let mut text = self.name.clone();
        if let Some(tag) = &self.tag {
            text.push(':');
            text.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            text.push('@');
            text.push_str(digest);
        }
        text
    }
}

fn check_image(
    image: &Node,
    who: &str,
    ctx: &Context<'_>,
    hit: &mut impl FnMut(&'static Rule, usize, String),
) {
    let raw = image.as_str().unwrap_or_default().trim();
    // Placeholders filled in later (envsubst, Flux post-build substitution, templating).
    if raw.is_empty() || raw.contains("${") || raw.contains("{{") {
        return;
    }
    let mut resolved = ImageRef::parse(raw);
    // Kustomize `images:` entries, innermost kustomization first, as kustomize applies them.
    for entry in &ctx.images {
        if entry.get("name").and_then(Node::as_str) != Some(resolved.name.as_str()) {
            continue;
        }
        if let Some(name) = entry.get("newName").and_then(Node::as_str) {
            resolved.name = name.to_owned();
        }
        if let Some(tag) = entry.get("newTag").and_then(Node::as_str) {
            resolved.tag = Some(tag.to_owned());
            resolved.digest = None;
        }
        if let Some(digest) = entry.get("digest").and_then(Node::as_str) {
            resolved.digest = Some(digest.to_owned());
            resolved.tag = None;
        }
    }
    if resolved.digest.is_some() {
        return;
    }
    let shown = resolved.render();
    let image_text = if shown == raw {
        format!("image \"{raw}\"")
    } else {
        format!("image \"{raw}\", which the kustomizations' images: make \"{shown}\",")
    };
    match resolved.tag.as_deref() {
        None | Some("") => hit(
            &K8S008,
            image.line,
            format!("{who} uses {image_text} with neither a tag nor a digest, so it pulls latest"),
        ),
        Some("latest") => hit(
            &K8S008,
            image.line,
            format!("{who} uses {image_text} tagged latest"),
        ),
        _ => {}
    }
}

fn label_map<'a>(
    node: Option<&'a Node>,
    extra: &[(&'a str, &'a str)],
) -> HashMap<&'a str, &'a str> {
    let mut labels: HashMap<&str, &str> = node
        .map(|n| {
            n.entries()
                .filter_map(|(k, v)| Some((k, v.as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    labels.extend(extra.iter().copied());
    labels
}

/// A label selector, read once: `matchLabels` (plus labels a kustomization adds to selectors)
/// and `matchExpressions`.
struct Selector<'a> {
    labels: HashMap<&'a str, &'a str>,
    /// (key, operator, values); an expression without a key selects nothing.
    expressions: Vec<(Option<&'a str>, Option<&'a str>, Vec<&'a str>)>,
}

impl<'a> Selector<'a> {
    fn read(selector: &'a Node, extra: &[(&'a str, &'a str)]) -> Selector<'a> {
        let expressions = selector
            .get("matchExpressions")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .map(|expression| {
                let values = expression
                    .get("values")
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(Node::as_str)
                    .collect();
                (
                    expression.get("key").and_then(Node::as_str),
                    expression.get("operator").and_then(Node::as_str),
                    values,
                )
            })
            .collect();
        Selector {
            labels: label_map(selector.get("matchLabels"), extra),
            expressions,
        }
    }

    /// Whether it selects pods with `labels`.
    fn selects(&self, labels: &HashMap<&str, &str>) -> bool {
        self.labels.iter().all(|(k, v)| labels.get(k) == Some(v))
            && self.expressions.iter().all(|(key, operator, values)| {
                let Some(key) = key else {
                    return false;
                };
                let value = labels.get(key);
                match operator {
                    Some("In") => value.is_some_and(|v| values.contains(v)),
                    Some("NotIn") => value.is_none_or(|v| !values.contains(v)),
                    Some("Exists") => value.is_some(),
                    Some("DoesNotExist") => value.is_none(),
                    _ => false,
                }
            })
    }
}

/// The disruption budgets of a set, indexed so that a workload only tries the budgets that can
/// select it: by one of their `matchLabels` pairs, or by namespace when they have none.
#[derive(Default)]
struct Budgets<'a> {
    by_label: HashMap<(Option<&'a str>, &'a str, &'a str), Vec<Selector<'a>>>,
    without_labels: HashMap<Option<&'a str>, Vec<Selector<'a>>>,
}

impl<'a> Budgets<'a> {
    fn add(&mut self, ns: Option<&'a str>, selector: Selector<'a>) {
        let first = selector.labels.iter().map(|(k, v)| (*k, *v)).min();
        match first {
            Some((k, v)) => self.by_label.entry((ns, k, v)).or_default().push(selector),
            None => self.without_labels.entry(ns).or_default().push(selector),
        }
    }

    fn cover(&self, ns: Option<&'a str>, labels: &HashMap<&'a str, &'a str>) -> bool {
        let candidates = labels
            .iter()
            .filter_map(|(k, v)| self.by_label.get(&(ns, *k, *v)))
            .chain(self.without_labels.get(&ns));
        candidates.flatten().any(|s| s.selects(labels))
    }
}

fn replicas(item: &Item<'_>) -> Option<u64> {
    item.doc
        .at(&["spec", "replicas"])
        .and_then(Node::as_str)
        .and_then(|r| r.parse().ok())
}

fn across(items: &[Item<'_>], hits: &mut Vec<Hit>) {
    // What scales what: (namespace, kind, name) of every autoscaler target.
    let mut scaled: HashSet<(Option<&str>, &str, &str)> = HashSet::new();
    let mut budgets = Budgets::default();
    let mut deployments: HashMap<(Option<&str>, &str), &Item<'_>> = HashMap::new();
    let mut borrowed: HashSet<(Option<&str>, &str)> = HashSet::new();
    for item in items {
        let ns = item.namespace();
        match item.kind {
            "HorizontalPodAutoscaler" => {
                let target = item.doc.at(&["spec", "scaleTargetRef"]);
                let kind = target.and_then(|t| t.get("kind")).and_then(Node::as_str);
                let name = target.and_then(|t| t.get("name")).and_then(Node::as_str);
                if let (Some(kind), Some(name)) = (kind, name) {
                    scaled.insert((ns, kind, name));
                }
            }
            "ScaledObject" if item.api.starts_with("keda.sh/") => {
                let target = item.doc.at(&["spec", "scaleTargetRef"]);
                let kind = target
                    .and_then(|t| t.get("kind"))
                    .and_then(Node::as_str)
                    .unwrap_or("Deployment");
                if let Some(name) = target.and_then(|t| t.get("name")).and_then(Node::as_str) {
                    scaled.insert((ns, kind, name));
                }
            }
            "PodDisruptionBudget" => {
                // No selector (or a null one) selects no pods; an empty one selects them all.
                if let Some(selector) = item.doc.at(&["spec", "selector"]).filter(|s| s.is_map()) {
                    budgets.add(ns, Selector::read(selector, &item.ctx.selector_labels));
                }
            }
            "Deployment" => {
                deployments.insert((ns, item.name()), item);
            }
            _ => {}
        }
        if let Some(name) = item.workload_ref() {
            borrowed.insert((ns, name));
        }
    }

    for (index, item) in items.iter().enumerate() {
        let ns = item.namespace();
        let name = item.name();
        let rollout = item.is_rollout();
        if !(matches!(item.kind, "Deployment" | "StatefulSet") || rollout) {
            continue;
        }
        // A Deployment a Rollout borrows its pod template from is checked as the Rollout.
        if item.kind == "Deployment" && borrowed.contains(&(ns, name)) {
            continue;
        }
        let borrowed_from = item
            .workload_ref()
            .and_then(|d| deployments.get(&(ns, d)).copied());
        let autoscaled = scaled.contains(&(ns, item.kind, name))
            || item
                .workload_ref()
                .is_some_and(|d| scaled.contains(&(ns, "Deployment", d)));
        if replicas(item) == Some(0) && !autoscaled {
            continue;
        }
        let line = Some(item.doc.line);
        let label = format!("{} \"{name}\"", item.kind);
        let (template, template_ctx) = match borrowed_from {
            Some(deployment) => (deployment.template(), deployment.ctx),
            None => (item.template(), item.ctx),
        };
        // Without a pod template (a workloadRef to a Deployment outside the set) the labels
        // are unknown: no budget can be matched or ruled out.
        if let Some(template) = template {
            let labels = label_map(
                template.at(&["metadata", "labels"]),
                &template_ctx.template_labels,
            );
            let covered = budgets.cover(ns, &labels);
            if !covered {
                hits.push(Hit {
                    rule: &K8S009,
                    item: index,
                    line,
                    subject: String::new(),
                    // In a Kustomize tree the namespace differs by overlay, which the finding
                    // names anyway; only loose manifests say it.
                    message: format!(
                        "{label} has no PodDisruptionBudget selecting its pods{}",
                        if item.ctx.kustomized {
                            String::new()
                        } else {
                            in_namespace(ns)
                        }
                    ),
                });
            }
        }
        if item.kind != "StatefulSet" && !autoscaled {
            let also = item
                .workload_ref()
                .map(|d| format!(" or its Deployment \"{d}\""))
                .unwrap_or_default();
            hits.push(Hit {
                rule: &K8S010,
                item: index,
                line,
                subject: String::new(),
                message: format!("no HorizontalPodAutoscaler targets {label}{also}"),
            });
        }
    }
}

fn in_namespace(ns: Option<&str>) -> String {
    ns.map(|n| format!(" in namespace \"{n}\""))
        .unwrap_or_default()
}

fn namespace(index: usize, item: &Item<'_>, hits: &mut Vec<Hit>) {
    if cluster_scoped(item.kind) || item.namespace().is_some() {
        return;
    }
    let line = key_line(item.doc, "metadata").unwrap_or(item.doc.line);
    let what = format!("{} \"{}\"", item.kind, item.name());
    let message = if item.ctx.kustomized {
        format!("{what} has no metadata.namespace, and no kustomization on the way sets one")
    } else {
        format!(
            "{what} has no metadata.namespace: kubectl apply puts it in whatever namespace the \
             current context selects"
        )
    };
    hits.push(Hit {
        rule: &K8S011,
        item: index,
        line: Some(line),
        subject: String::new(),
        message,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_split_at_tag_and_digest() {
        let r = ImageRef::parse("registry:5000/team/app:1.2@sha256:abc");
        assert_eq!(r.name, "registry:5000/team/app");
        assert_eq!(r.tag.as_deref(), Some("1.2"));
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));
        let r = ImageRef::parse("registry:5000/team/app");
        assert_eq!((r.name.as_str(), r.tag), ("registry:5000/team/app", None));
        assert_eq!(ImageRef::parse("nginx:latest").render(), "nginx:latest");
    }

    #[test]
    fn selectors_evaluate_expressions() {
        let doc = crate::check::yaml::parse(
            "matchLabels: {app: api}\nmatchExpressions:\n- {key: tier, operator: In, values: [web]}\n- {key: canary, operator: DoesNotExist}\n",
        )
        .unwrap();
        let selector = Selector::read(&doc[0], &[]);
        let labels: HashMap<&str, &str> = [("app", "api"), ("tier", "web")].into();
        assert!(selector.selects(&labels));
        let labels: HashMap<&str, &str> = [("app", "api"), ("tier", "web"), ("canary", "1")].into();
        assert!(!selector.selects(&labels));
        let labels: HashMap<&str, &str> = [("app", "api")].into();
        assert!(!selector.selects(&labels));
    }
}
