//! The alerting rules against their unit tests, runbooks and docs, in every scaffold: each alert
//! says how bad it is and where its runbook is, is unit-tested silent and firing on both sides of
//! its `for:`, has a runbook (and every runbook an alert), and is listed in docs/monitoring.md as
//! the rule defines it. promtool runs the generated unit tests at both ends of the valid SLO range.
//! (validators.rs runs promtool over every scaffold with its default target.)

use std::collections::BTreeMap;
use std::process::Command;

use assert_fs::TempDir;
use yaml_rust2::{Yaml, YamlLoader};

use crate::snapshots::{scaffold_names, scaffold_tree, tree_with};
use crate::validators::{check, tool, write_tree};

const RULES: &str = "monitoring/prometheus/rules.yaml";
const TESTS: &str = "monitoring/prometheus/rules.test.yaml";

/// One alerting rule, as rules.yaml defines it.
struct Alert {
    name: String,
    for_minutes: u64,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

/// One `alert_rule_test` entry: at `eval_minutes`, the alerts expected (empty: must not fire).
struct Case {
    alert: String,
    eval_minutes: u64,
    firing: Vec<(BTreeMap<String, String>, BTreeMap<String, String>)>,
}

fn yaml(tree: &infra_new::render::Tree, path: &str) -> Yaml {
    let text = std::str::from_utf8(&tree[path]).unwrap();
    YamlLoader::load_from_str(text)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .remove(0)
}

/// A Prometheus duration of whole minutes, hours or days, in minutes.
fn minutes(d: &str) -> u64 {
    let (n, unit) = d.split_at(d.len() - 1);
    let n: u64 = n.parse().unwrap_or_else(|_| panic!("duration {d}"));
    match unit {
        "m" => n,
        "h" => n * 60,
        "d" => n * 24 * 60,
        _ => panic!("duration {d}: expected m, h or d"),
    }
}

fn strings(map: &Yaml) -> BTreeMap<String, String> {
    map.as_hash()
        .map(|h| {
            h.iter()
                .map(|(k, v)| {
                    let value = match v {
                        Yaml::String(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        other => panic!("{k:?}: not a string: {other:?}"),
                    };
                    (k.as_str().unwrap().to_string(), value.trim().to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn alerts(tree: &infra_new::render::Tree) -> Vec<Alert> {
    let rules = yaml(tree, RULES);
    rules["groups"]
        .as_vec()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_vec().unwrap())
        .filter_map(|r| {
            let name = r["alert"].as_str()?.to_string();
            let for_ = r["for"]
                .as_str()
                .unwrap_or_else(|| panic!("{name} has no `for:`"));
            Some(Alert {
                for_minutes: minutes(for_),
                labels: strings(&r["labels"]),
                annotations: strings(&r["annotations"]),
                name,
            })
        })
        .collect()
}

/// The alert cases of rules.test.yaml, one list per test group (each group has its own series).
fn cases(tree: &infra_new::render::Tree) -> Vec<Vec<Case>> {
    let tests = yaml(tree, TESTS);
    tests["tests"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|group| {
            group["alert_rule_test"]
                .as_vec()
                .map(|v| v.as_slice())
                .unwrap_or_default()
                .iter()
                .map(|c| Case {
                    alert: c["alertname"].as_str().unwrap().to_string(),
                    eval_minutes: minutes(c["eval_time"].as_str().unwrap()),
                    firing: c["exp_alerts"]
                        .as_vec()
                        .unwrap()
                        .iter()
                        .map(|a| (strings(&a["exp_labels"]), strings(&a["exp_annotations"])))
                        .collect(),
                })
                .collect()
        })
        .collect()
}

fn trees() -> Vec<(String, infra_new::render::Tree)> {
    scaffold_names()
        .into_iter()
        .map(|n| {
            let tree = scaffold_tree(&n);
            (n, tree)
        })
        .collect()
}

#[test]
fn every_alert_says_how_bad_it_is_and_where_its_runbook_is() {
    for (scaffold, tree) in trees() {
        let alerts = alerts(&tree);
        assert!(alerts.len() >= 13, "{scaffold}: {} alerts", alerts.len());
        for a in &alerts {
            let severity = a.labels.get("severity").map(String::as_str);
            assert!(
                matches!(severity, Some("page" | "ticket")),
                "{scaffold}: {} has severity {severity:?}",
                a.name
            );
            assert_eq!(a.labels.get("team").map(String::as_str), Some("payments"));
            for key in ["summary", "description"] {
                assert!(
                    a.annotations.get(key).is_some_and(|v| v.len() > 20),
                    "{scaffold}: {} has no {key}",
                    a.name
                );
            }
            let url = &a.annotations["runbook_url"];
            assert!(
                url.ends_with(&format!("/main/docs/runbooks/{}.md", a.name))
                    && (url.starts_with("https://github.com/acme/checkout/blob/")
                        || url.starts_with("https://gitlab.com/acme/checkout/-/blob/")),
                "{scaffold}: {} links {url}",
                a.name
            );
        }
        let gitlab = tree.contains_key(".gitlab-ci.yml");
        assert!(
            alerts
                .iter()
                .all(|a| a.annotations["runbook_url"].contains("gitlab.com") == gitlab),
            "{scaffold}: runbook links point at the wrong forge"
        );
    }
}

/// Every alert has, within one test group, a case where it must not fire yet and a later case
/// where it fires, no further apart than its `for:` plus 10 minutes (the time the rate windows
/// of the broken series need to cross the threshold). Every firing case asserts the rule's
/// severity and runbook link.
#[test]
fn every_alert_is_tested_silent_and_firing_around_its_for() {
    for (scaffold, tree) in trees() {
        let groups = cases(&tree);
        for a in alerts(&tree) {
            let name = a.name.as_str();
            let bracketed = groups.iter().any(|group| {
                let of = |firing: bool| {
                    group
                        .iter()
                        .filter(move |c| c.alert == name && c.firing.is_empty() != firing)
                        .map(|c| c.eval_minutes)
                };
                of(false).any(|silent| {
                    of(true).any(|fired| silent < fired && fired - silent <= a.for_minutes + 10)
                })
            });
            assert!(
                bracketed,
                "{scaffold}: {} (for {}m) has no silent case shortly before a firing one",
                a.name, a.for_minutes
            );
            for case in groups.iter().flatten().filter(|c| c.alert == a.name) {
                for (labels, annotations) in &case.firing {
                    assert_eq!(
                        labels.get("severity"),
                        a.labels.get("severity"),
                        "{}",
                        a.name
                    );
                    assert_eq!(
                        annotations.get("runbook_url"),
                        a.annotations.get("runbook_url"),
                        "{scaffold}: {} at {}m",
                        a.name,
                        case.eval_minutes
                    );
                }
            }
        }
    }
}

#[test]
fn every_alert_has_a_runbook_and_every_runbook_an_alert() {
    for (scaffold, tree) in trees() {
        let mut alerts: Vec<String> = alerts(&tree).into_iter().map(|a| a.name).collect();
        alerts.sort();
        let runbooks: Vec<String> = tree
            .keys()
            .filter_map(|p| p.strip_prefix("docs/runbooks/")?.strip_suffix(".md"))
            .map(str::to_string)
            .collect();
        assert_eq!(
            alerts, runbooks,
            "alerts and runbooks differ in `{scaffold}`"
        );
        let rollout = tree.contains_key("ci/abort-rollout.sh");
        assert_eq!(
            alerts.iter().any(|a| a == "RolloutAborted"),
            rollout,
            "{scaffold}: the Argo Rollouts alerts come exactly with a Rollout"
        );
    }
}

/// docs/monitoring.md's alert table lists every alert with the severity and `for:` of its rule.
#[test]
fn monitoring_docs_list_every_alert_as_defined() {
    for (scaffold, tree) in trees() {
        let doc = std::str::from_utf8(&tree["docs/monitoring.md"]).unwrap();
        let rows: BTreeMap<&str, (&str, &str)> = doc
            .lines()
            .filter(|l| l.contains("(runbooks/"))
            .map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                (cells[1], (cells[2], cells[3]))
            })
            .collect();
        let alerts = alerts(&tree);
        assert_eq!(rows.len(), alerts.len(), "{scaffold}: {rows:?}");
        for a in &alerts {
            let (severity, for_) = rows
                .get(a.name.as_str())
                .unwrap_or_else(|| panic!("{scaffold}: {} is not in docs/monitoring.md", a.name));
            assert_eq!(*severity, a.labels["severity"], "{scaffold}: {}", a.name);
            assert_eq!(minutes(for_), a.for_minutes, "{scaffold}: {}", a.name);
        }
    }
}

/// The generated unit tests derive their failing traffic from the error budget; they must hold at
/// both ends of the range `slo_target` accepts, with the Argo Rollouts alerts included.
#[test]
fn generated_rule_tests_pass_across_the_slo_range() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    for target in ["95", "99.999"] {
        let tree = tree_with("default", &[("slo_target", target), ("rollout", "canary")]);
        let dir = TempDir::new().unwrap();
        write_tree(dir.path(), &tree, |p| p.starts_with("monitoring/"));
        check(
            "promtool test rules",
            &format!("slo_target {target}"),
            Command::new(&promtool)
                .args(["test", "rules", TESTS])
                .current_dir(dir.path()),
        );
    }
}
