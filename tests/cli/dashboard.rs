//! The Grafana dashboard of every scaffold (see snapshots.rs): valid dashboard JSON whose panels all
//! query the `${datasource}` variable; delivered by production's overlay alone, as the ConfigMap the
//! Grafana sidecar loads; and every query reads only series that exist (recorded by the scaffold's
//! rules, exposed by the service skeleton, or from a standard exporter) in PromQL that promtool
//! accepts.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use assert_fs::TempDir;
use infra_new::render::{METRICS, Tree};
use serde_json::Value;

use crate::snapshots::{scaffold_names, scaffold_tree, tree_with};
use crate::validators::{check, tool, write_tree};

const DASHBOARD: &str = "deploy/kubernetes/base/grafana-dashboard.json";
const RULES: &str = "monitoring/prometheus/rules.yaml";
/// The service name every test scaffold has (snapshots.rs `COMMON`), and its team.
const NAME: &str = "checkout";
const TEAM: &str = "payments";

/// Series the dashboard may read from standard exporters, by exporter. Anything else must be
/// recorded by the scaffold's rules or exposed by the service skeleton.
const EXPORTER_SERIES: &[(&str, &[&str])] = &[
    // Prometheus itself: one series per scrape target.
    ("Prometheus", &["up"]),
    (
        "kube-state-metrics",
        &[
            "kube_horizontalpodautoscaler_spec_max_replicas",
            "kube_horizontalpodautoscaler_spec_min_replicas",
            "kube_horizontalpodautoscaler_status_current_replicas",
            "kube_horizontalpodautoscaler_status_desired_replicas",
            "kube_pod_container_status_restarts_total",
        ],
    ),
    // The Argo Rollouts controller (blue-green and canary only).
    (
        "Argo Rollouts controller",
        &[
            "rollout_info_replicas_available",
            "rollout_info_replicas_desired",
            "rollout_info_replicas_unavailable",
            "rollout_info_replicas_updated",
        ],
    ),
];

fn dashboard(tree: &Tree) -> Value {
    serde_json::from_slice(&tree[DASHBOARD])
        .unwrap_or_else(|e| panic!("{DASHBOARD} is not JSON: {e}"))
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {v}"))
}

/// Every PromQL query of the dashboard as (where it is, expr): each panel target, and the
/// expression inside the namespace variable's `label_values(<expr>, <label>)`.
fn queries(d: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in d["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().into_iter().flatten() {
            out.push((
                format!("panel `{}`", text(p, "title")),
                text(t, "expr").into(),
            ));
        }
    }
    for v in d["templating"]["list"].as_array().unwrap() {
        if v["type"] == "query" {
            let q = text(&v["query"], "query");
            let inner = q
                .strip_prefix("label_values(")
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|r| r.rsplit_once(','))
                .unwrap_or_else(|| panic!("variable query is not label_values(expr, label): {q}"))
                .0;
            out.push((format!("variable `{}`", text(v, "name")), inner.into()));
        }
    }
    out
}

/// Grafana's variables replaced by values PromQL accepts.
fn substitute(expr: &str) -> String {
    expr.replace("$__rate_interval", "5m")
        .replace("$__range", "1d")
        .replace("${datasource}", "prometheus")
        .replace("$namespace", &format!("{NAME}-production"))
}

/// The metric names a PromQL expression reads: identifiers outside strings, label matchers, range
/// brackets and grouping lists that are neither keywords nor called as functions or aggregations.
fn metric_names(expr: &str) -> Vec<String> {
    const KEYWORDS: &[&str] = &[
        "and", "or", "unless", "bool", "offset", "inf", "nan", "atan2",
    ];
    const GROUPING: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    let c: Vec<char> = expr.chars().collect();
    // The index just past the end of the quoted string starting at `i`.
    let skip_string = |mut i: usize| {
        let quote = c[i];
        i += 1;
        while i < c.len() && c[i] != quote {
            i += if c[i] == '\\' { 2 } else { 1 };
        }
        i + 1
    };
    // The index just past the bracket closing the one at `i` (strings inside skipped).
    let skip_group = |mut i: usize, close: char| {
        i += 1;
        while i < c.len() && c[i] != close {
            i = if matches!(c[i], '"' | '\'' | '`') {
                skip_string(i)
            } else {
                i + 1
            };
        }
        i + 1
    };
    let ident = |ch: char| ch.is_ascii_alphanumeric() || ch == '_' || ch == ':';
    let mut names = Vec::new();
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            '"' | '\'' | '`' => i = skip_string(i),
            '{' => i = skip_group(i, '}'),
            '[' => i = skip_group(i, ']'),
            ch if ch.is_ascii_digit() || ch == '.' => {
                while i < c.len() && (ident(c[i]) || c[i] == '.') {
                    i += 1;
                }
            }
            ch if ch.is_ascii_alphabetic() || ch == '_' || ch == ':' => {
                let start = i;
                while i < c.len() && ident(c[i]) {
                    i += 1;
                }
                let word: String = c[start..i].iter().collect();
                let mut next = i;
                while next < c.len() && c[next].is_whitespace() {
                    next += 1;
                }
                // A call, or an aggregation with its grouping first (`sum by (x) (...)`).
                let rest: String = c[next..].iter().take(16).collect();
                let called = next < c.len() && c[next] == '('
                    || ["by", "without"].iter().any(|g| {
                        rest.strip_prefix(g)
                            .is_some_and(|r| r.trim_start().starts_with('('))
                    });
                if GROUPING.contains(&word.as_str()) {
                    if called {
                        i = skip_group(next, ')');
                    }
                } else if !called && !KEYWORDS.contains(&word.to_ascii_lowercase().as_str()) {
                    names.push(word);
                }
            }
            _ => i += 1,
        }
    }
    names
}

#[test]
fn metric_names_skip_functions_labels_strings_and_durations() {
    let expr = r#"max by (pod, le) (increase(foo_total{a="b{c}", d=~"x|y"}[$__rate_interval]))
        / on (namespace) group_left (pod) bar:ratio_rate5m offset 1d > bool 0.5
        or histogram_quantile(0.99, sum(rate(baz_bucket{le="0.5"}[5m]))) unless 1e3"#;
    assert_eq!(
        metric_names(expr),
        ["foo_total", "bar:ratio_rate5m", "baz_bucket"]
    );
}

#[test]
fn dashboard_is_grafana_json_on_the_datasource_variable() {
    for scaffold in scaffold_names() {
        let tree = scaffold_tree(&scaffold);
        let d = dashboard(&tree);
        let ctx = |what: &str| format!("{scaffold}: {what}");
        assert_eq!(text(&d, "uid"), NAME, "{}", ctx("uid"));
        assert_eq!(text(&d, "title"), NAME, "{}", ctx("title"));
        assert_eq!(d["schemaVersion"], 39, "{}", ctx("schemaVersion"));
        assert_eq!(d["time"]["from"], "now-6h", "{}", ctx("time range"));
        assert!(d["refresh"].is_string(), "{}", ctx("refresh"));
        assert!(
            d["tags"].as_array().unwrap().contains(&Value::from(TEAM)),
            "{}",
            ctx("tags")
        );

        let vars: BTreeMap<&str, &Value> = d["templating"]["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (text(v, "name"), v))
            .collect();
        assert_eq!(
            vars.keys().copied().collect::<Vec<_>>(),
            ["datasource", "namespace"],
            "{}",
            ctx("variables")
        );
        assert_eq!(vars["datasource"]["type"], "datasource");
        assert_eq!(vars["datasource"]["query"], "prometheus");
        let namespace = vars["namespace"];
        assert_eq!(namespace["type"], "query");
        assert_eq!(namespace["multi"], false);
        assert_eq!(namespace["includeAll"], false);
        assert_eq!(
            namespace["current"]["value"],
            format!("{NAME}-production").as_str()
        );

        let panels = d["panels"].as_array().unwrap();
        assert!(panels.len() > 10, "{}", ctx("panels"));
        let mut ids = BTreeSet::new();
        for p in panels {
            let title = text(p, "title");
            let at = |what: &str| format!("{scaffold}: panel `{title}`: {what}");
            assert!(
                ids.insert(p["id"].as_u64().unwrap()),
                "{}",
                at("id repeats")
            );
            assert_eq!(
                p["datasource"]["type"],
                "prometheus",
                "{}",
                at("datasource")
            );
            assert_eq!(
                p["datasource"]["uid"],
                "${datasource}",
                "{}",
                at("datasource")
            );
            let grid = &p["gridPos"];
            let (x, w) = (grid["x"].as_u64().unwrap(), grid["w"].as_u64().unwrap());
            assert!(
                x + w <= 24 && grid["h"].as_u64().unwrap() > 0,
                "{}",
                at("gridPos")
            );
            if p["type"] == "row" {
                assert!(p.get("targets").is_none(), "{}", at("a row has queries"));
                continue;
            }
            assert!(!text(p, "description").is_empty(), "{}", at("description"));
            let targets = p["targets"].as_array().unwrap();
            assert!(!targets.is_empty(), "{}", at("no queries"));
            let mut refs = BTreeSet::new();
            for t in targets {
                assert_eq!(
                    t["datasource"]["uid"],
                    "${datasource}",
                    "{}",
                    at("target datasource")
                );
                assert!(refs.insert(text(t, "refId")), "{}", at("refId repeats"));
                assert!(!text(t, "expr").is_empty(), "{}", at("empty expr"));
            }
        }

        // The Rollout row exactly where there is an Argo Rollout.
        let argo_rollouts =
            tree.contains_key("deploy/kubernetes/overlays/production/rollout-patch.yaml");
        let reads_rollout = queries(&d).iter().any(|(_, e)| {
            metric_names(e)
                .iter()
                .any(|m| m.starts_with("rollout_info"))
        });
        assert_eq!(argo_rollouts, reads_rollout, "{}", ctx("Rollout panels"));
    }
}

/// Grafana refuses a uid longer than 40 characters; the uid is the service name.
#[test]
fn the_longest_service_name_is_a_valid_dashboard_uid() {
    let name = "a".repeat(40);
    let d = dashboard(&tree_with("default", &[("name", &name)]));
    assert_eq!(text(&d, "uid"), name);
}

/// The first block scalar value of `key` (`  key: |`) in a kustomize output document.
fn block_scalar(doc: &str, key: &str) -> Option<String> {
    let mut lines = doc.lines();
    lines.find(|l| l.trim_start().starts_with(&format!("{key}: |")))?;
    let body: Vec<&str> = lines
        .take_while(|l| l.is_empty() || l.starts_with("    "))
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect();
    Some(body.join("\n"))
}

/// The kinds an Argo CD AppProject lets its Applications manage in their namespaces.
fn whitelisted_kinds(project: &str) -> BTreeSet<String> {
    project
        .split("namespaceResourceWhitelist:")
        .nth(1)
        .expect("namespaceResourceWhitelist")
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  -") || l.starts_with("    ") || l.starts_with("  #"))
        .filter_map(|l| l.trim().strip_prefix("kind: "))
        .map(str::to_string)
        .collect()
}

#[test]
fn production_alone_delivers_the_dashboard_configmap() {
    let Some(kubectl) = tool("kubectl") else {
        return;
    };
    for scaffold in scaffold_names() {
        let tree = scaffold_tree(&scaffold);
        let dir = TempDir::new().unwrap();
        write_tree(dir.path(), &tree, |p| p.starts_with("deploy/"));
        let build = |env: &str| {
            let out = check(
                "kubectl kustomize",
                &scaffold,
                Command::new(&kubectl)
                    .args(["kustomize", &format!("deploy/kubernetes/overlays/{env}")])
                    .current_dir(dir.path()),
            );
            String::from_utf8(out.stdout).unwrap()
        };
        let documents =
            |yaml: &str| -> Vec<String> { yaml.split("\n---\n").map(str::to_string).collect() };

        let production = build("production");
        let configmaps: Vec<String> = documents(&production)
            .into_iter()
            .filter(|d| d.contains("\nkind: ConfigMap\n"))
            .collect();
        assert_eq!(configmaps.len(), 1, "{scaffold}: ConfigMaps in production");
        let cm = &configmaps[0];
        for line in [
            format!("  name: {NAME}-dashboard"),
            format!("  namespace: {NAME}-production"),
            "    grafana_dashboard: \"1\"".to_string(),
            format!("    grafana_folder: {TEAM}"),
        ] {
            assert!(
                cm.lines().any(|l| l == line),
                "{scaffold}: no `{line}` in the dashboard ConfigMap:\n{cm}"
            );
        }
        let data = block_scalar(cm, &format!("{NAME}.json"))
            .unwrap_or_else(|| panic!("{scaffold}: no {NAME}.json block in\n{cm}"));
        let delivered: Value = serde_json::from_str(&data)
            .unwrap_or_else(|e| panic!("{scaffold}: the ConfigMap's JSON does not parse: {e}"));
        assert_eq!(
            delivered,
            dashboard(&tree),
            "{scaffold}: delivered dashboard"
        );

        for env in ["dev", "staging"] {
            let built = build(env);
            assert!(
                !built.contains("grafana_dashboard") && !built.contains("\nkind: ConfigMap\n"),
                "{scaffold}: {env} carries the dashboard ConfigMap"
            );
        }

        // Argo CD syncs only the kinds its AppProject allows: all of production's.
        if let Some(project) = tree.get("deploy/argocd/project.yaml") {
            let allowed = whitelisted_kinds(std::str::from_utf8(project).unwrap());
            for doc in documents(&production) {
                let kind = doc
                    .lines()
                    .find_map(|l| l.strip_prefix("kind: "))
                    .expect("kind");
                assert!(
                    kind == "Namespace" || allowed.contains(kind),
                    "{scaffold}: the AppProject does not allow {kind} (allowed: {allowed:?})"
                );
            }
        }
    }
}

#[test]
fn every_query_reads_series_that_exist() {
    let skeleton: BTreeSet<String> = [METRICS.requests.to_string()]
        .into_iter()
        .chain(
            ["_bucket", "_count", "_sum"]
                .iter()
                .map(|s| format!("{}{s}", METRICS.duration)),
        )
        .collect();
    let exporters: BTreeMap<&str, &str> = EXPORTER_SERIES
        .iter()
        .flat_map(|(exporter, series)| series.iter().map(move |s| (*s, *exporter)))
        .collect();
    let mut used = BTreeSet::new();
    for scaffold in scaffold_names() {
        let tree = scaffold_tree(&scaffold);
        let rules = std::str::from_utf8(&tree[RULES]).unwrap();
        let recorded: BTreeSet<&str> = rules
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- record: "))
            .map(|r| r.trim().trim_matches('"'))
            .collect();
        assert!(!recorded.is_empty(), "{scaffold}: no recording rules");
        for (place, expr) in queries(&dashboard(&tree)) {
            let names = metric_names(&expr);
            assert!(
                !names.is_empty(),
                "{scaffold}: {place} reads no series: {expr}"
            );
            for name in names {
                assert!(
                    recorded.contains(name.as_str())
                        || skeleton.contains(&name)
                        || exporters.contains_key(name.as_str()),
                    "{scaffold}: {place} reads `{name}`, which no rule in {RULES} records, the \
                     service does not expose and no standard exporter in EXPORTER_SERIES has: {expr}"
                );
                used.insert(name);
            }
        }
    }
    // The allow-list holds nothing the dashboard no longer reads (checked over every scaffold only:
    // the Rollout series are read by blue-green and canary ones).
    if std::env::var_os("INFRA_NEW_PRESETS").is_some() {
        return;
    }
    for series in exporters.keys() {
        assert!(
            used.contains(*series),
            "EXPORTER_SERIES lists `{series}`, which no dashboard reads"
        );
    }
}

#[test]
fn promtool_accepts_every_query() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    for scaffold in scaffold_names() {
        let tree = scaffold_tree(&scaffold);
        let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
        for (i, (place, expr)) in queries(&dashboard(&tree)).iter().enumerate() {
            rules.push_str(&format!(
                "      # {place}\n      - record: dashboard:query_{i}\n        expr: {}\n",
                serde_json::to_string(&substitute(expr)).unwrap()
            ));
        }
        let dir = TempDir::new().unwrap();
        let file = dir.path().join("dashboard-queries.yaml");
        std::fs::write(&file, &rules).unwrap();
        let out = Command::new(&promtool)
            .args(["check", "rules"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{scaffold}: promtool rejects a dashboard query (rule N is query_N below):\n{}\n{rules}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
