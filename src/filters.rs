//! Quoting filters, one per output format. Every answer that reaches YAML, HCL, TOML, JSON or a
//! shell word goes through the filter made for that format, so no value can change the structure
//! of the file it lands in.

use minijinja::{Error, ErrorKind, Value};

/// A double-quoted string with the escapes YAML, HCL and TOML share (`\"`, `\\`, `\n`, `\r`,
/// `\t`, and `\uXXXX` for other control characters). `special` sees each character (and the next)
/// first and returns true when it wrote that character itself.
fn double_quoted(text: &str, special: impl Fn(char, Option<char>, &mut String) -> bool) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if special(c, chars.peek().copied(), &mut out) {
            continue;
        }
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A YAML double-quoted scalar. Line and paragraph separators and the BOM are escaped too, so the
/// scalar stays on one line and means exactly the input.
pub fn yaml(value: &Value) -> String {
    double_quoted(&value.to_string(), |c, _, out| {
        let separator = matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}');
        if separator {
            out.push_str(&format!("\\u{:04X}", c as u32));
        }
        separator
    })
}

/// A JSON value: strings quoted, numbers, booleans, lists and maps as they are.
pub fn json(value: &Value) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| {
        Error::new(ErrorKind::InvalidOperation, "cannot serialize to JSON").with_source(e)
    })
}

/// An HCL (Terraform) quoted string. `${` and `%{` are doubled so that they stay literal text
/// instead of starting an interpolation or a template directive.
pub fn hcl(value: &Value) -> String {
    double_quoted(&value.to_string(), |c, next, out| {
        let opens = matches!(c, '$' | '%') && next == Some('{');
        if opens {
            out.push(c);
            out.push(c);
        }
        opens
    })
}

/// A TOML basic string.
pub fn toml(value: &Value) -> String {
    double_quoted(&value.to_string(), |_, _, _| false)
}

/// One POSIX shell word: single-quoted, with embedded single quotes closed, escaped and reopened.
/// A NUL byte cannot be part of a shell word, so it is an error.
pub fn shell(value: &Value) -> Result<String, Error> {
    let text = value.to_string();
    if text.contains('\0') {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "a NUL byte cannot be quoted for the shell",
        ));
    }
    Ok(format!("'{}'", text.replace('\'', r"'\''")))
}

/// Registers the quoting filters on an environment.
pub fn register(env: &mut minijinja::Environment<'_>) {
    env.add_filter("yaml", |v: Value| yaml(&v));
    env.add_filter("json", |v: Value| json(&v));
    env.add_filter("hcl", |v: Value| hcl(&v));
    env.add_filter("toml", |v: Value| toml(&v));
    env.add_filter("shell", |v: Value| shell(&v));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values an attacker or a careless user could type.
    const HOSTILE: &[&str] = &[
        "plain",
        "key: value",
        "a # comment",
        "\"double\" and 'single' quotes",
        "line one\nline two\r\n",
        "tab\there",
        "${var.secret}",
        "%{ if true }x%{ endif }",
        "{{ name }} and {% raw %}",
        "$(rm -rf /) `id` $HOME",
        "back\\slash\\",
        "ünïcødé — 名前 🚀",
        "\u{2028}line sep\u{7f}del\u{1b}esc",
        "- list: [a, b] {c: d} & *alias !tag |",
        "",
    ];

    fn v(s: &str) -> Value {
        Value::from(s)
    }

    #[test]
    fn yaml_is_a_json_string_that_round_trips() {
        // YAML 1.2 double-quoted scalars accept JSON string syntax, so a JSON parser reading the
        // scalar back proves it is one line and means exactly the input.
        for input in HOSTILE {
            let out = yaml(&v(input));
            assert!(!out.contains('\n') && !out.contains('\r'), "{out}");
            assert!(!out.contains('\u{2028}'), "{out}");
            let back: String = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{out}: {e}"));
            assert_eq!(&back, input);
        }
    }

    #[test]
    fn json_round_trips_strings_and_keeps_numbers() {
        for input in HOSTILE {
            let back: String = serde_json::from_str(&json(&v(input)).unwrap()).unwrap();
            assert_eq!(&back, input);
        }
        assert_eq!(json(&Value::from(8080)).unwrap(), "8080");
        assert_eq!(json(&Value::from(99.9)).unwrap(), "99.9");
    }

    #[test]
    fn toml_round_trips() {
        for input in HOSTILE {
            let doc = format!("k = {}", toml(&v(input)));
            let table: ::toml::Table = doc.parse().unwrap_or_else(|e| panic!("{doc}: {e}"));
            assert_eq!(table["k"].as_str(), Some(*input));
        }
    }

    #[test]
    fn hcl_escapes_interpolation_and_quotes() {
        assert_eq!(hcl(&v("${var.x}")), r#""$${var.x}""#);
        assert_eq!(hcl(&v("%{ if }")), r#""%%{ if }""#);
        assert_eq!(hcl(&v("$ alone and % alone")), r#""$ alone and % alone""#);
        assert_eq!(hcl(&v("say \"hi\"\n")), r#""say \"hi\"\n""#);
        assert_eq!(hcl(&v("a\\b")), r#""a\\b""#);
        assert_eq!(hcl(&v("\u{1b}")), r#""\u001B""#);
        for input in HOSTILE {
            let out = hcl(&v(input));
            let inner = &out[1..out.len() - 1];
            assert!(!inner.contains('\n'), "{out}");
            // No unescaped quote ends the string early, and no interpolation opens.
            assert!(
                !inner.replace("\\\\", "").replace("\\\"", "").contains('"'),
                "{out}"
            );
            assert!(!inner.replace("$${", "").contains("${"), "{out}");
            assert!(!inner.replace("%%{", "").contains("%{"), "{out}");
        }
    }

    #[test]
    fn shell_words_survive_a_real_shell() {
        for input in HOSTILE {
            let word = shell(&v(input)).unwrap();
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {word}"))
                .output()
                .unwrap();
            assert!(out.status.success());
            assert_eq!(String::from_utf8(out.stdout).unwrap(), *input, "{word}");
        }
        assert!(shell(&v("nul\0byte")).is_err());
    }

    #[test]
    fn filters_work_inside_templates() {
        let mut env = minijinja::Environment::new();
        register(&mut env);
        let out = env
            .render_str("a: {{ x | yaml }}\nb = {{ x | hcl }}\nc = {{ x | toml }}\nd={{ x | shell }}\ne: {{ x | json }}", minijinja::context! { x => "${a}: 'b'" })
            .unwrap();
        assert_eq!(
            out,
            "a: \"${a}: 'b'\"\nb = \"$${a}: 'b'\"\nc = \"${a}: 'b'\"\nd='${a}: '\\''b'\\'''\ne: \"${a}: 'b'\""
        );
    }
}
