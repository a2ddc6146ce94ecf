//! Asking for missing answers. The resolver only sees the `Prompter` trait, so the same logic runs
//! with a terminal wizard for people and a scripted one in tests.

use std::collections::VecDeque;

use crate::answers::{Field, Kind};
use crate::error::Error;

/// Asks for one answer. `validate` is the same check flags and files get.
pub trait Prompter {
    fn ask(
        &mut self,
        field: &Field,
        default: Option<&str>,
        validate: &dyn Fn(&str) -> Result<(), String>,
    ) -> Result<String, Error>;
}

/// The interactive wizard on a terminal.
pub struct Wizard;

impl Prompter for Wizard {
    fn ask(
        &mut self,
        field: &Field,
        default: Option<&str>,
        validate: &dyn Fn(&str) -> Result<(), String>,
    ) -> Result<String, Error> {
        let fail = |e: inquire::InquireError| match e {
            inquire::InquireError::OperationCanceled
            | inquire::InquireError::OperationInterrupted => Error::Cancelled,
            other => Error::Prompt {
                key: field.key.to_string(),
                source: Box::new(other),
            },
        };
        match field.kind {
            Kind::Choice(options) => {
                // Only the values that fit the answers so far (the registries of the chosen cloud).
                let options: Vec<_> = options()
                    .into_iter()
                    .filter(|(id, _)| validate(id).is_ok())
                    .collect();
                let labels: Vec<String> = options
                    .iter()
                    .map(|(id, desc)| format!("{id:<8} {desc}"))
                    .collect();
                let start = default
                    .and_then(|d| options.iter().position(|(id, _)| *id == d))
                    .unwrap_or(0);
                let picked = inquire::Select::new(field.prompt, labels.clone())
                    .with_help_message(field.help)
                    .with_starting_cursor(start)
                    .prompt()
                    .map_err(fail)?;
                let index = labels
                    .iter()
                    .position(|l| *l == picked)
                    .expect("picked from the list");
                Ok(options[index].0.to_string())
            }
            Kind::Text => {
                let check = move |v: &str| {
                    Ok(match validate(v.trim()) {
                        Ok(()) => inquire::validator::Validation::Valid,
                        Err(hint) => inquire::validator::Validation::Invalid(hint.into()),
                    })
                };
                let mut prompt = inquire::Text::new(field.prompt)
                    .with_help_message(field.help)
                    .with_validator(check);
                if let Some(d) = default {
                    prompt = prompt.with_default(d);
                }
                prompt.prompt().map(|v| v.trim().to_string()).map_err(fail)
            }
        }
    }
}

/// Answers from a script, in order; records the keys it was asked for. For tests.
pub struct Scripted {
    answers: VecDeque<String>,
    asked: Vec<String>,
}

impl Scripted {
    pub fn new(answers: &[&str]) -> Scripted {
        Scripted {
            answers: answers.iter().map(|a| a.to_string()).collect(),
            asked: Vec::new(),
        }
    }

    pub fn asked(&self) -> Vec<&str> {
        self.asked.iter().map(String::as_str).collect()
    }
}

impl Prompter for Scripted {
    fn ask(
        &mut self,
        field: &Field,
        default: Option<&str>,
        validate: &dyn Fn(&str) -> Result<(), String>,
    ) -> Result<String, Error> {
        self.asked.push(field.key.to_string());
        let answer = self.answers.pop_front().ok_or(Error::Cancelled)?;
        let answer = if answer.is_empty() {
            default.unwrap_or_default().to_string()
        } else {
            answer
        };
        validate(&answer).map_err(|hint| Error::Prompt {
            key: field.key.to_string(),
            source: hint.into(),
        })?;
        Ok(answer)
    }
}
