//! Presets: named answers files embedded from `presets/*.toml`. A preset has the schema of an
//! answers file; its first comment line describes it.

use std::path::Path;

use include_dir::{Dir, include_dir};

use crate::answers::{Answers, Origin, RawAnswers, Resolve, resolve};
use crate::error::Error;

static PRESETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/presets");

/// The preset `infra-new new` starts from when no preset is named.
pub const DEFAULT: &str = "default";

#[derive(Debug, Clone)]
pub struct Preset {
    pub name: String,
    pub description: String,
    pub text: String,
}

/// Every embedded preset, sorted by name.
pub fn all() -> Vec<Preset> {
    let mut presets: Vec<Preset> = PRESETS
        .files()
        .filter(|f| f.path().extension().is_some_and(|e| e == "toml"))
        .map(|f| {
            let text = f.contents_utf8().expect("presets are UTF-8").to_string();
            let description = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix('#'))
                .map(|l| l.trim().to_string())
                .unwrap_or_default();
            let name = f
                .path()
                .file_stem()
                .expect("a file name")
                .to_string_lossy()
                .into_owned();
            Preset {
                name,
                description,
                text,
            }
        })
        .collect();
    presets.sort_by(|a, b| a.name.cmp(&b.name));
    presets
}

/// Finds an embedded preset by name.
pub fn find(name: &str) -> Result<Preset, Error> {
    let presets = all();
    presets
        .iter()
        .find(|p| p.name == name)
        .cloned()
        .ok_or_else(|| Error::UnknownPreset {
            name: name.to_string(),
            available: presets.iter().map(|p| p.name.clone()).collect(),
        })
}

/// Loads `--preset NAME|PATH`: an embedded preset by name, or a TOML file when the value is a path
/// to one.
pub fn load(spec: &str) -> Result<RawAnswers, Error> {
    let path = Path::new(spec);
    let looks_like_path = spec.contains('/') || spec.contains('\\') || spec.ends_with(".toml");
    if looks_like_path {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadAnswers {
            path: path.to_path_buf(),
            source,
        })?;
        return RawAnswers::from_toml(&text, Origin::Preset(spec.to_string()))
            .map_err(Error::InvalidAnswers);
    }
    let preset = find(spec)?;
    RawAnswers::from_toml(&preset.text, Origin::Preset(preset.name.clone()))
        .map_err(Error::InvalidAnswers)
}

/// The answers of an embedded preset with `overrides` laid over it and every other answer at its
/// default, without asking: for scripts, tests and benchmarks that render a preset directly.
pub fn answers(preset: &str, overrides: &[(&str, &str)]) -> Result<Answers, Error> {
    let mut raw = load(preset)?;
    let mut problems = Vec::new();
    for (key, value) in overrides {
        if let Err(p) = raw.set(key, *value, Origin::Flag) {
            problems.push(p);
        }
    }
    resolve(
        &raw,
        &mut Resolve {
            dir_name: None,
            take_defaults: true,
            prompter: None,
            earlier: problems,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_preset_parses_and_is_described() {
        let presets = all();
        assert!(presets.iter().any(|p| p.name == DEFAULT));
        for p in presets {
            assert!(
                !p.description.is_empty(),
                "{} has no description line",
                p.name
            );
            assert!(load(&p.name).is_ok(), "{}", p.name);
        }
    }

    #[test]
    fn preset_answers_take_overrides_and_defaults() {
        let a = answers(
            DEFAULT,
            &[
                ("org", "acme"),
                ("account", "111122223333"),
                ("name", "billing"),
            ],
        )
        .unwrap();
        assert_eq!(
            (a.org.as_str(), a.name.as_str(), a.port),
            ("acme", "billing", 8080)
        );
        assert!(matches!(
            answers(DEFAULT, &[("colour", "blue")]),
            Err(Error::InvalidAnswers(_))
        ));
    }

    #[test]
    fn unknown_presets_list_the_available_ones() {
        let Err(Error::UnknownPreset { available, .. }) = load("nope") else {
            panic!()
        };
        assert!(available.contains(&DEFAULT.to_string()));
    }
}
