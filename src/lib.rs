//! infra-new: scaffolds a production-ready service repository from embedded templates.
//!
//! Data flows one way: inputs → validated [`answers::Answers`] → [`render::render`] → a sorted
//! tree of path → bytes → [`plan::Plan`] → [`apply::apply_new`]. Dry runs stop at the plan.

pub mod answers;
pub mod apply;
pub mod check;
pub mod cli;
pub mod error;
pub mod filters;
pub mod git;
pub mod manifest;
pub mod names;
pub mod options;
pub mod plan;
pub mod presets;
pub mod prompt;
pub mod render;
pub mod upgrade;

pub use answers::Answers;
pub use error::Error;
