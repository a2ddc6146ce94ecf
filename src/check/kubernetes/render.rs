//! Rendering Kustomize roots with `kubectl kustomize`: one process per root, a few at a time.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Builds every directory in `dirs`; each result is the rendered YAML or the reason it failed
/// (the first line kubectl wrote to stderr).
pub(crate) fn build_all(kubectl: &Path, dirs: &[PathBuf]) -> Vec<Result<String, String>> {
    let results: Vec<Mutex<Option<Result<String, String>>>> =
        dirs.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(4, |n| n.get())
        .clamp(1, 8)
        .min(dirs.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(dir) = dirs.get(index) else {
                        break;
                    };
                    let result = build(kubectl, dir);
                    *results[index].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(|| Err("not built".into()))
        })
        .collect()
}

/// How long one build may take. Kustomize is slow on big trees (about 40 s for a base of 1,000
/// objects) and a remote resource may wait on the network; a build that takes longer is given up
/// and its root checked file by file.
const BUILD_TIMEOUT: Duration = Duration::from_secs(300);

fn build(kubectl: &Path, dir: &Path) -> Result<String, String> {
    let mut child = Command::new(kubectl)
        .arg("kustomize")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not run {}: {e}", kubectl.display()))?;
    // Drain both pipes while waiting, so a large output cannot block the child.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if started.elapsed() > BUILD_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!(
                    "kubectl kustomize did not finish within {} s",
                    BUILD_TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => break Err(e.to_string()),
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let status = status?;
    if status.success() {
        String::from_utf8(stdout).map_err(|_| "output is not UTF-8".to_owned())
    } else {
        let stderr = String::from_utf8_lossy(&stderr);
        Err(stderr
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map_or_else(|| status.to_string(), tidy))
    }
}

/// kubectl's error line without its log prefix: `E1122 15:12:34.184703 17396 run.go:72]
/// "command failed" err="accumulating resources: …"` becomes `accumulating resources: …`.
fn tidy(line: &str) -> String {
    let mut text = line;
    let klog = text.len() > 5
        && text.starts_with(['E', 'W', 'I', 'F'])
        && text[1..5].bytes().all(|b| b.is_ascii_digit());
    if klog {
        if let Some((_, rest)) = text.split_once("] ") {
            text = rest;
        }
    }
    let mut text = match text.strip_prefix("\"command failed\" err=\"") {
        Some(quoted) => unquote(quoted.strip_suffix('"').unwrap_or(quoted)),
        None => text.to_owned(),
    };
    for prefix in ["error: ", "Error: "] {
        if let Some(rest) = text.strip_prefix(prefix) {
            text = rest.to_owned();
        }
    }
    text
}

/// One level of Go string escaping undone (`\"` → `"`, `\\` → `\`).
fn unquote(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some(next @ ('"' | '\\'))) => {
                out.push(next);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn kubectl_errors_lose_their_log_prefix() {
        assert_eq!(
            super::tidy(
                r#"E1122 15:12:34.184703   17396 run.go:72] "command failed" err="accumulating resources: \"x\"""#
            ),
            r#"accumulating resources: "x""#
        );
        assert_eq!(super::tidy("error: no such file"), "no such file");
    }
}
