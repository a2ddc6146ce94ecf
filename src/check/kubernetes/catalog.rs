//! The K8S rules: ids, severities and the text `--explain` prints.

use crate::check::{Rule, Severity};

pub static K8S001: Rule = Rule {
    id: "K8S001",
    severity: Severity::Error,
    title: "Long-running containers have a readiness and a liveness probe",
    fix: "Add a readinessProbe (ready for traffic) and a livenessProbe (restart when stuck)",
    explain: "\
Without a readinessProbe a pod receives traffic as soon as its process starts, before it can
answer, and keeps receiving it while it is overloaded or draining; a rolling update then counts
half-started pods as available. Without a livenessProbe a deadlocked process stays in the
Service forever, because the kubelet only restarts containers that exit.

Checked on the containers of Deployments, StatefulSets, DaemonSets, ReplicaSets, Argo Rollouts
and Pods, and on sidecar init containers (restartPolicy: Always). Jobs, CronJobs and Pods with
restartPolicy Never or OnFailure run to completion and are exempt. This passes:

    readinessProbe: {httpGet: {path: /readyz, port: http}}
    livenessProbe: {httpGet: {path: /healthz, port: http}}

A container that serves nothing (a queue worker) can use an exec or grpc probe; if it truly
needs none, suppress with `# infra-new:ignore K8S001 <why>` above the container's `- name:`.",
};

pub static K8S002: Rule = Rule {
    id: "K8S002",
    severity: Severity::Error,
    title: "Every container requests CPU and memory",
    fix: "Set resources.requests.cpu and resources.requests.memory on the container",
    explain: "\
The scheduler places pods by their requests. A container that requests nothing is placed on a
node as if it used nothing, so nodes get overcommitted and the container is among the first
evicted under memory pressure (QoS class BestEffort). Autoscalers that target utilisation
(an HPA on CPU) compute it against the request and do not work without one.

Every container and init container needs both. Kubernetes copies a limit into a missing request,
but then the request is a side effect nobody chose; write it out. This passes:

    resources:
      requests: {cpu: 100m, memory: 256Mi}
      limits: {cpu: 500m, memory: 256Mi}",
};

pub static K8S003: Rule = Rule {
    id: "K8S003",
    severity: Severity::Error,
    title: "Every container has a CPU and a memory limit",
    fix: "Set resources.limits.memory and resources.limits.cpu on the container",
    explain: "\
Without a memory limit a leaking container grows until the node runs out of memory and the
kernel kills whatever it picks, often a neighbour. Without a CPU limit one busy container takes
every idle core of the node, so its latency in production depends on who else happens to be idle.
The practice this tool follows is explicit requests and limits for both CPU and memory on every
workload: the scaffolds set both, and derive GOMAXPROCS and GOMEMLIMIT from the limits.

Checked on every container and init container. This passes:

    resources:
      requests: {cpu: 100m, memory: 256Mi}
      limits: {cpu: 500m, memory: 256Mi}

If you leave CPU unlimited on purpose (a latency-sensitive service on dedicated nodes), say so
with `# infra-new:ignore K8S003 <why>` above the container's `- name:`.",
};

pub static K8S004: Rule = Rule {
    id: "K8S004",
    severity: Severity::Error,
    title: "Containers run as a non-root user",
    fix: "Set securityContext.runAsNonRoot: true (pod or container) and a non-zero runAsUser",
    explain: "\
A process running as root inside a container is root on the node's kernel: one escape bug or a
writable hostPath mount away from the node. With runAsNonRoot: true the kubelet refuses to start
a container whose image would run as UID 0, so a base image change cannot silently bring root
back.

The container's securityContext overrides the pod's. A finding is reported when the effective
runAsUser is 0, or when neither runAsNonRoot: true nor a non-zero runAsUser applies. A numeric
runAsUser above 0 is accepted on its own: the container cannot run as root then, even though
only runAsNonRoot makes the kubelet check the image. This passes:

    securityContext: {runAsNonRoot: true, runAsUser: 65532}",
};

pub static K8S005: Rule = Rule {
    id: "K8S005",
    severity: Severity::Error,
    title: "Containers cannot gain privileges",
    fix: "Set allowPrivilegeEscalation: false in the container's securityContext; drop privileged",
    explain: "\
allowPrivilegeEscalation defaults to true: a setuid binary in the image (or one an attacker
writes) can then gain more privileges than the process started with. A privileged container
has every capability and the host's devices, which is root on the node. Pod Security's
`restricted` level rejects both.

The field only exists on containers, so every container and init container must say it. This
passes:

    securityContext:
      allowPrivilegeEscalation: false",
};

pub static K8S006: Rule = Rule {
    id: "K8S006",
    severity: Severity::Warning,
    title: "Containers have a read-only root filesystem",
    fix: "Set readOnlyRootFilesystem: true and mount an emptyDir where the app must write",
    explain: "\
A writable root filesystem lets an attacker who gets code execution drop tools and change the
application's files in place, and lets the application itself keep state in the container that
disappears on restart. A read-only root makes both fail loudly; give the process an emptyDir for
/tmp or a cache directory instead. This passes:

    securityContext:
      readOnlyRootFilesystem: true
    volumeMounts: [{name: tmp, mountPath: /tmp}]

Some images write to fixed paths they cannot be configured away from; suppress with
`# infra-new:ignore K8S006 <why>` above the container's `- name:`.",
};

pub static K8S007: Rule = Rule {
    id: "K8S007",
    severity: Severity::Warning,
    title: "Containers drop all Linux capabilities",
    fix: "Set capabilities.drop: [ALL] and add back only what the process needs",
    explain: "\
Container runtimes grant a default set of capabilities (NET_RAW, CHOWN, SETUID and more) that an
ordinary service never uses and an attacker can: NET_RAW allows spoofing packets inside the
cluster network. Dropping ALL and adding back the one or two a process really needs (for
example NET_BIND_SERVICE) keeps the blast radius small; Pod Security's `restricted` level
requires it. This passes:

    securityContext:
      capabilities:
        drop: [ALL]",
};

pub static K8S008: Rule = Rule {
    id: "K8S008",
    severity: Severity::Error,
    title: "Images are pinned to a version or digest",
    fix: "Use an explicit tag (app:1.4.2) or a digest (app@sha256:...), never latest",
    explain: "\
An image without a tag means `latest`, and `latest` moves: two pods of one Deployment can run
different code, a node restart can upgrade production by itself, and rolling back to the previous
manifest does not bring the previous image back. A tag names a release; a digest pins the exact
bytes that were built and scanned.

In a Kustomize tree the tag may come from an `images:` entry of a kustomization that includes
the manifest (newTag or digest); that pins it too. This passes:

    image: ghcr.io/acme/api:1.4.2
    image: ghcr.io/acme/api@sha256:<digest>",
};

pub static K8S009: Rule = Rule {
    id: "K8S009",
    severity: Severity::Warning,
    title: "Replicated workloads have a PodDisruptionBudget",
    fix: "Add a PodDisruptionBudget in the same namespace whose selector matches the pod labels",
    explain: "\
Node drains (cluster upgrades, autoscaler scale-downs) evict pods through the eviction API, which
only holds back when a PodDisruptionBudget says how many pods may be down. Without one a drain
can take every replica at once, and the service is down for as long as the new pods take to
start.

Checked for Deployments, StatefulSets and Argo Rollouts that run pods (replicas not 0, or an
autoscaler manages them). The budget must be in the same namespace and its selector must match
the pod template's labels. This passes:

    kind: PodDisruptionBudget
    spec:
      maxUnavailable: 1
      selector: {matchLabels: {app.kubernetes.io/name: api}}",
};

pub static K8S010: Rule = Rule {
    id: "K8S010",
    severity: Severity::Warning,
    title: "Deployments and Rollouts are autoscaled",
    fix: "Add a HorizontalPodAutoscaler whose scaleTargetRef names the workload",
    explain: "\
A fixed replica count is either too many pods at night or too few at the peak. A
HorizontalPodAutoscaler keeps capacity in step with load within the bounds you set, and with
minReplicas >= 2 it also keeps a spare replica during a drain or a crash.

Checked for Deployments and Argo Rollouts (a Deployment that a Rollout's workloadRef uses is part
of the Rollout: an autoscaler on either counts). A KEDA ScaledObject counts too. Workloads with
replicas: 0 and no autoscaler are skipped. This passes:

    kind: HorizontalPodAutoscaler
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
      minReplicas: 2
      maxReplicas: 10

A singleton on purpose (a leader-elected controller) can be suppressed on the workload's first
line with `# infra-new:ignore K8S010 <why>`.",
};

pub static K8S011: Rule = Rule {
    id: "K8S011",
    severity: Severity::Warning,
    title: "Namespaced objects say which namespace they belong to",
    fix: "Set metadata.namespace, or `namespace:` in the kustomization that deploys the object",
    explain: "\
An object without a namespace goes wherever the applying context points: `kubectl apply` from a
laptop with another namespace selected puts a copy of the service next to someone else's, and
the GitOps engine's default may not be what the author assumed. Naming the namespace in Git
makes the destination reviewable.

In a Kustomize tree the `namespace:` of a kustomization that includes the file counts, and so
does the destination of a GitOps object in the repository that deploys the directory (an Argo CD
Application's destination.namespace, a Flux Kustomization's targetNamespace). Cluster-scoped
kinds (Namespace, ClusterRole, CustomResourceDefinition, StorageClass, ...) are exempt; kinds
the rule does not know are treated as namespaced. This passes:

    metadata:
      name: api
      namespace: payments",
};

pub static RULES: &[&Rule] = &[
    &K8S001, &K8S002, &K8S003, &K8S004, &K8S005, &K8S006, &K8S007, &K8S008, &K8S009, &K8S010,
    &K8S011,
];
