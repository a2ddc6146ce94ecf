//! The one integration test binary: drives the real `infra-new` in temp dirs.

mod alerts;
mod azure_identity;
mod check;
mod check_corpus;
mod check_kustomize;
mod ci_verify;
mod dashboard;
mod new;
mod pipelines;
mod presets;
mod snapshots;
mod support;
mod upgrade;
mod validators;
mod wizard;
