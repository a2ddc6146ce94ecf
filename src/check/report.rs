//! Printing a report: grouped text for people (colored when asked), JSON, SARIF 2.1.0; and the
//! rule documentation behind `--explain`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use serde_json::{Value, json};

use super::{Finding, Report, Rule, Severity, rules};
use crate::render::VERSION;

const RED: Style = AnsiColor::Red.on_default().bold();
const YELLOW: Style = AnsiColor::Yellow.on_default().bold();
const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

/// Paints `text` when color is on.
fn paint(style: Style, text: &str, color: bool) -> String {
    if color {
        format!("{style}{text}{style:#}")
    } else {
        text.to_owned()
    }
}

fn severity_style(severity: Severity) -> Style {
    match severity {
        Severity::Error => RED,
        Severity::Warning => YELLOW,
    }
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Findings grouped by file, each with its line, severity, rule, message and fix; then file
/// errors, notes and a summary line.
pub fn human(report: &Report, out: &mut dyn Write, color: bool) -> io::Result<()> {
    let mut by_file: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for finding in &report.findings {
        by_file.entry(&finding.path).or_default().push(finding);
    }
    let width = report
        .findings
        .iter()
        .filter_map(|f| f.line)
        .max()
        .unwrap_or(0)
        .to_string()
        .len()
        .max(1);
    for (path, findings) in &by_file {
        writeln!(out, "{}", paint(BOLD, path, color))?;
        for f in findings {
            let line = f.line.map_or_else(|| "-".to_owned(), |l| l.to_string());
            let severity = format!("{:<7}", f.rule.severity.as_str());
            writeln!(
                out,
                "  {line:>width$}  {}  {}  {}",
                paint(severity_style(f.rule.severity), &severity, color),
                paint(BOLD, &format!("{:<8}", f.rule.id), color),
                f.message
            )?;
            writeln!(
                out,
                "  {:width$}  {}",
                "",
                paint(
                    DIM,
                    &format!("{:7}  {:8}  fix: {}", "", "", f.rule.fix),
                    color
                )
            )?;
        }
        writeln!(out)?;
    }
    for error in &report.errors {
        let at = error
            .line
            .map_or_else(|| error.path.clone(), |l| format!("{}:{l}", error.path));
        writeln!(
            out,
            "{} {at}: {}",
            paint(RED, "error:", color),
            error.message
        )?;
    }
    for note in &report.notes {
        writeln!(out, "{} {note}", paint(BOLD, "note:", color))?;
    }
    let (errors, warnings) = report.severity_counts();
    let mut summary = if report.findings.is_empty() {
        "no findings".to_owned()
    } else {
        format!(
            "{}, {} in {}",
            plural(errors, "error"),
            plural(warnings, "warning"),
            plural(by_file.len(), "file")
        )
    };
    summary.push_str(&format!(
        " ({} checked",
        plural(report.files_checked, "file")
    ));
    if !report.suppressed.is_empty() {
        summary.push_str(&format!(", {} suppressed", report.suppressed.len()));
    }
    if !report.errors.is_empty() {
        summary.push_str(&format!(
            ", {} could not be checked",
            plural(report.errors.len(), "file")
        ));
    }
    summary.push(')');
    let style = if !report.errors.is_empty() || errors > 0 {
        RED
    } else if warnings > 0 {
        YELLOW
    } else {
        AnsiColor::Green.on_default().bold()
    };
    writeln!(out, "{}", paint(style, &summary, color))?;
    if report
        .findings
        .iter()
        .any(|f| f.rule.id != rules::CHK001.id)
    {
        writeln!(
            out,
            "{}",
            paint(
                DIM,
                "`infra-new check --explain RULE-ID` says why a rule exists and how to fix or suppress it",
                color
            )
        )?;
    }
    Ok(())
}

fn finding_json(f: &Finding) -> Value {
    json!({
        "rule": f.rule.id,
        "severity": f.rule.severity,
        "path": f.path,
        "line": f.line,
        "message": f.message,
        "title": f.rule.title,
        "fix": f.rule.fix,
    })
}

/// One JSON document: findings, suppressed findings with their reasons, file errors, notes.
pub fn json(report: &Report) -> Value {
    let (errors, warnings) = report.severity_counts();
    json!({
        "version": VERSION,
        "files_checked": report.files_checked,
        "summary": {
            "errors": errors,
            "warnings": warnings,
            "suppressed": report.suppressed.len(),
            "unreadable_files": report.errors.len(),
        },
        "findings": report.findings.iter().map(finding_json).collect::<Vec<_>>(),
        "suppressed": report.suppressed.iter().map(|s| {
            let mut value = finding_json(&s.finding);
            value["reason"] = json!(s.reason);
            value
        }).collect::<Vec<_>>(),
        "errors": report.errors,
        "notes": report.notes,
        "exit_code": report.exit_code(),
    })
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn sarif_location(path: &str, line: Option<usize>) -> Value {
    let mut physical = json!({ "artifactLocation": { "uri": path, "uriBaseId": "%SRCROOT%" } });
    if let Some(line) = line {
        physical["region"] = json!({ "startLine": line });
    }
    json!({ "physicalLocation": physical })
}

/// SARIF 2.1.0: the rule table (every rule, so results index into it), one result per finding,
/// suppressed findings as results with an in-source suppression, and unreadable files as tool
/// notifications.
pub fn sarif(report: &Report) -> Value {
    let catalog: Vec<&Rule> = rules::all().collect();
    let index = |rule: &Rule| catalog.iter().position(|r| r.id == rule.id);
    let result = |f: &Finding| {
        json!({
            "ruleId": f.rule.id,
            "ruleIndex": index(f.rule),
            "level": sarif_level(f.rule.severity),
            "message": { "text": f.message },
            "locations": [sarif_location(&f.path, f.line)],
        })
    };
    let mut results: Vec<Value> = report.findings.iter().map(result).collect();
    results.extend(report.suppressed.iter().map(|s| {
        let mut value = result(&s.finding);
        value["suppressions"] = json!([{ "kind": "inSource", "justification": s.reason }]);
        value
    }));
    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            json!({
                "level": "error",
                "message": { "text": e.message },
                "locations": [sarif_location(&e.path, e.line)],
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "infra-new",
                "version": VERSION,
                "rules": catalog.iter().map(|r| json!({
                    "id": r.id,
                    "shortDescription": { "text": r.title },
                    "fullDescription": { "text": r.explain },
                    "help": { "text": format!("{}\n\nFix: {}", r.explain, r.fix) },
                    "defaultConfiguration": { "level": sarif_level(r.severity) },
                })).collect::<Vec<_>>(),
            }},
            "invocations": [{
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    })
}

/// `--explain ID`: the rule's id, severity and title, why it exists, the fix and how to
/// suppress it.
pub fn explain(rule: &Rule, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{} ({}): {}",
        rule.id,
        rule.severity.as_str(),
        rule.title
    )?;
    writeln!(out)?;
    writeln!(out, "{}", rule.explain.trim_end())?;
    writeln!(out)?;
    writeln!(out, "Fix: {}", rule.fix)?;
    if rule.id != rules::CHK001.id {
        writeln!(
            out,
            "Suppress one finding: # {} {} <reason>",
            super::IGNORE_MARKER,
            rule.id
        )?;
    }
    Ok(())
}

/// `--explain all`: one line per rule.
pub fn catalog(out: &mut dyn Write) -> io::Result<()> {
    for rule in rules::all() {
        writeln!(
            out,
            "{:<9} {:<8} {}",
            rule.id,
            rule.severity.as_str(),
            rule.title
        )?;
    }
    Ok(())
}
