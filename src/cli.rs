//! The command line: clap definitions at the edge, resolved into plain values before anything
//! else runs. Commands write their normal output to the writer they are given; errors go back to
//! `main`, which prints them.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use serde::Serialize;

use crate::answers::{self, Answers, Origin, RawAnswers, Resolve};
use crate::apply;
use crate::error::{Error, Problem, exit};
use crate::options::{Choice, Ci, Cloud, Gitops, Language, Registry, Rollout};
use crate::plan::{Action, Entry, Plan};
use crate::presets;
use crate::prompt::Wizard;
use crate::render::{self, Kind, VERSION};
use crate::upgrade::{self, ANSWERS_FILE, LastRender, Messages, Workspace};

/// Scaffold a production-ready service repository: a runnable service, a multi-stage Dockerfile,
/// Kustomize base and overlays, GitOps manifests, Terraform with remote state, a CI/CD pipeline,
/// alert rules and a runbook for every alert.
#[derive(Debug, Parser)]
#[command(name = "infra-new", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new service repository.
    ///
    /// Answers come from a preset, then an answers file, then flags and `--set`, each overriding
    /// the one before; the wizard asks for whatever is still missing. Without a terminal on stdin,
    /// or with `--non-interactive`, nothing is asked and missing answers are an error.
    New(Box<NewArgs>),
    /// Bring a scaffold up to this version's templates, or change its answers, keeping every edit.
    ///
    /// Renders the scaffold again from `.infra-new.toml` (with `--set` changes) and merges the
    /// render into the current branch with git's three-way merge: its base is the render the
    /// branch last merged, stored in the history. Edits the team made are kept; where they meet
    /// a template change, the files get ordinary git conflicts (exit code 1): resolve them,
    /// `git add` and `git commit`, or undo with `--abort`. The work tree must be clean.
    Upgrade(Box<UpgradeArgs>),
    /// Add the infrastructure to an existing repository with its own code.
    ///
    /// The language is detected from the build manifest (package.json, pyproject.toml or
    /// requirements.txt, go.mod, Cargo.toml, pom.xml or build.gradle); the other answers come as
    /// for `new`. The service skeleton is left out. A file that already exists with other
    /// contents is never overwritten: it becomes a git conflict to resolve. Later, `infra-new
    /// upgrade` keeps the repository up to date.
    Init(Box<InitArgs>),
    /// Check any repository against the rules the scaffolds are built to.
    ///
    /// Finds Dockerfiles, Kubernetes manifests and Kustomize trees, compose files and CI
    /// workflows (GitHub Actions, GitLab CI) under PATH, honouring .gitignore, and reports every
    /// rule broken, with its file and line. A comment `# infra-new:ignore RULE-ID reason` on the
    /// line, or just above it, suppresses one finding. Exit code 0 when clean, 1 with findings,
    /// 2 when a file could not be read or parsed (the other files are still checked).
    Check(Box<CheckArgs>),
    /// List the embedded presets, or print one.
    Presets {
        #[command(subcommand)]
        action: Option<PresetsAction>,
    },
    /// Print a shell completion script to stdout.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout.
    Man,
}

#[derive(Debug, Subcommand)]
pub enum PresetsAction {
    /// List the presets with their descriptions (the default).
    List,
    /// Print a preset's TOML.
    Show {
        /// The preset's name.
        name: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Text for people.
    Human,
    /// One JSON document on stdout, for automation.
    Json,
}

fn choice_help<C: Choice>(what: &str) -> String {
    format!("{what} [values: {}]", C::ids().join(", "))
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The directory to create; it must not exist or be empty. Defaults to `./<name>`, and its
    /// name is the default service name.
    pub path: Option<PathBuf>,

    #[command(flatten)]
    pub answers: AnswerArgs,

    /// Print the plan (every file, new or unchanged, and its size) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// With `--dry-run`, print the contents as a unified diff.
    #[arg(long, requires = "dry_run")]
    pub diff: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Do not create a git repository and its first commit.
    #[arg(long)]
    pub no_git: bool,
    #[command(flatten)]
    pub templates: TemplateArgs,
}

/// Where answers come from, for `new` and `init`.
#[derive(Debug, Args)]
pub struct AnswerArgs {
    /// Service name: a DNS-1123 label that is also a valid image name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    #[arg(long, value_name = "ID", help = choice_help::<Language>("Service language"))]
    pub language: Option<String>,
    #[arg(long, value_name = "ID", help = choice_help::<Cloud>("Cloud provider"))]
    pub cloud: Option<String>,
    #[arg(long, value_name = "ID", help = choice_help::<Registry>("Container registry (ecr, gar and acr only with aws, gcp and azure)"))]
    pub registry: Option<String>,
    #[arg(long, value_name = "ID", help = choice_help::<Rollout>("Rollout strategy"))]
    pub rollout: Option<String>,
    #[arg(long, value_name = "ID", help = choice_help::<Ci>("CI system"))]
    pub ci: Option<String>,
    #[arg(long, value_name = "ID", help = choice_help::<Gitops>("GitOps engine"))]
    pub gitops: Option<String>,
    /// GitHub organisation or user that owns the repository (lowercase).
    #[arg(long, value_name = "ORG")]
    pub org: Option<String>,
    /// The team that owns the service and is paged for it [default: platform].
    #[arg(long, value_name = "TEAM")]
    pub team: Option<String>,
    /// The port the service listens on [default: 8080].
    #[arg(long, value_name = "PORT")]
    pub port: Option<String>,
    /// Cloud region [default: the cloud's usual first region, e.g. us-east-1].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// The cloud account that runs the service: AWS account ID, Google Cloud project ID or Azure
    /// subscription ID.
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// Azure only: the Microsoft Entra tenant ID of the subscription.
    #[arg(long, value_name = "GUID")]
    pub tenant: Option<String>,
    /// Availability SLO in percent over 30 days [default: 99.9].
    #[arg(long, value_name = "PERCENT")]
    pub slo_target: Option<String>,

    /// Start from a preset: an embedded one by name (see `infra-new presets`) or a TOML file.
    #[arg(long, value_name = "NAME|PATH")]
    pub preset: Option<String>,
    /// Read answers from a TOML file (flat `key = value`; a scaffold's `.infra-new.toml` works too).
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// Set any answer; repeatable. Overrides the preset and the answers file.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Take the default for every missing answer that has one instead of asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Never ask: a missing or invalid answer is an error (also when stdin is not a terminal).
    #[arg(long)]
    pub non_interactive: bool,
}

/// A template set other than the embedded one: for tests of upgrades, hidden from help.
#[derive(Debug, Args)]
pub struct TemplateArgs {
    #[arg(long, value_name = "DIR", hide = true)]
    pub template_dir: Option<PathBuf>,
}

impl TemplateArgs {
    fn renderer(&self) -> Result<render::Renderer, Error> {
        match &self.template_dir {
            Some(dir) => render::Renderer::from_dir(dir),
            None => render::Renderer::embedded(),
        }
    }
}

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// The scaffold's repository (any directory inside it) [default: the current directory].
    pub path: Option<PathBuf>,
    /// Change an answer; repeatable (e.g. `--set rollout=canary`).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Print what would happen to each file, and write nothing. Exit code 1 when the upgrade
    /// would leave conflicts.
    #[arg(long, conflicts_with = "abort")]
    pub dry_run: bool,
    /// Undo an upgrade that stopped at conflicts: back to exactly the state before it.
    #[arg(long, conflicts_with = "set")]
    pub abort: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    #[command(flatten)]
    pub templates: TemplateArgs,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The repository to adopt (any directory inside it) [default: the current directory].
    pub path: Option<PathBuf>,
    #[command(flatten)]
    pub answers: AnswerArgs,
    /// Print what would happen to each file, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    #[command(flatten)]
    pub templates: TemplateArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Findings grouped by file, colored on a terminal.
    Human,
    /// One JSON document on stdout, for automation.
    Json,
    /// SARIF 2.1.0, for code scanning (GitHub, GitLab, IDEs).
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The repository (or any directory) to check.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
    /// Print what a rule checks, why, and how to fix it; `all` lists every rule.
    #[arg(long, value_name = "RULE-ID", conflicts_with = "drift")]
    pub explain: Option<String>,
    /// When to color the human output: `auto` colors a terminal unless NO_COLOR is set.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    /// In a scaffold: render it again from `.infra-new.toml` with this version's templates and
    /// report the managed files that differ (exit code 1); `infra-new upgrade` brings them up to
    /// date.
    #[arg(long)]
    pub drift: bool,
    #[command(flatten)]
    pub templates: TemplateArgs,
}

/// Runs a parsed command line; returns the exit code for success paths.
pub fn execute(cli: Cli, out: &mut dyn Write) -> Result<i32, Error> {
    match cli.command {
        Command::New(args) => new(*args, out),
        Command::Upgrade(args) => upgrade_cmd(*args, out),
        Command::Init(args) => init_cmd(*args, out),
        Command::Check(args) => check_cmd(*args, out),
        Command::Presets { action } => presets_cmd(action.unwrap_or(PresetsAction::List), out),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "infra-new", out);
            Ok(exit::OK)
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command())
                .render(out)
                .map_err(Error::io("cannot write", "stdout"))?;
            Ok(exit::OK)
        }
    }
}

fn check_cmd(args: CheckArgs, out: &mut dyn Write) -> Result<i32, Error> {
    use crate::check::{self, report, rules};
    let written = |result: std::io::Result<()>| result.map_err(Error::io("cannot write", "stdout"));
    if let Some(id) = &args.explain {
        if id.eq_ignore_ascii_case("all") {
            written(report::catalog(out))?;
        } else {
            let rule = rules::find(id).ok_or_else(|| Error::UnknownRule(id.clone()))?;
            written(report::explain(rule, out))?;
        }
        return Ok(exit::OK);
    }
    let path = args.path;
    if !path.is_dir() {
        let reason = if path.exists() {
            "not a directory"
        } else {
            "no such directory"
        };
        return Err(Error::CheckPath {
            path,
            reason: reason.into(),
        });
    }
    let result = if args.drift {
        check::drift::drift(&path, &args.templates.renderer()?)?
    } else {
        let options = check::Options {
            kubectl: find_on_path("kubectl"),
        };
        check::check(&path, &options).map_err(|e| Error::CheckPath {
            path: path.clone(),
            reason: e.message,
        })?
    };
    match args.format {
        CheckFormat::Human => {
            let color = match args.color {
                ColorWhen::Always => true,
                ColorWhen::Never => false,
                ColorWhen::Auto => {
                    std::io::stdout().is_terminal()
                        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                }
            };
            written(report::human(&result, out, color))?;
            if args.drift && !result.findings.is_empty() {
                written(writeln!(
                    out,
                    "`infra-new upgrade` merges this version's templates into the scaffold, keeping every edit"
                ))?;
            }
        }
        CheckFormat::Json => written(writeln!(out, "{:#}", report::json(&result)))?,
        CheckFormat::Sarif => written(writeln!(out, "{:#}", report::sarif(&result)))?,
    }
    Ok(result.exit_code())
}

/// The first executable called `name` on PATH.
fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn presets_cmd(action: PresetsAction, out: &mut dyn Write) -> Result<i32, Error> {
    match action {
        PresetsAction::List => {
            let all = presets::all();
            let width = all.iter().map(|p| p.name.len()).max().unwrap_or(0);
            for p in all {
                let _ = writeln!(out, "{:<width$}  {}", p.name, p.description);
            }
        }
        PresetsAction::Show { name } => {
            let _ = write!(out, "{}", presets::find(&name)?.text);
        }
    }
    Ok(exit::OK)
}

/// `--set KEY=VALUE` pairs, over what `raw` holds.
fn set_pairs(
    raw: &mut RawAnswers,
    pairs: &[String],
    problems: &mut Vec<Problem>,
) -> Result<(), Error> {
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| Error::BadSet(pair.clone()))?;
        if let Err(p) = raw.set(key.trim(), value, Origin::Flag) {
            problems.push(p);
        }
    }
    Ok(())
}

/// Layers the answer sources in precedence order: preset < answers file < `--set` < flags. Bad
/// keys and values are returned as problems so that one error can list them with the rest.
fn gather(args: &AnswerArgs) -> Result<(RawAnswers, Vec<Problem>), Error> {
    let mut raw = RawAnswers::default();
    let mut problems = Vec::new();
    if let Some(spec) = &args.preset {
        match presets::load(spec) {
            Ok(preset) => raw.overlay(preset),
            Err(Error::InvalidAnswers(p)) => problems.extend(p),
            Err(other) => return Err(other),
        }
    }
    if let Some(path) = &args.answers {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadAnswers {
            path: path.clone(),
            source,
        })?;
        match RawAnswers::from_toml(&text, Origin::File(path.display().to_string())) {
            Ok(file) => raw.overlay(file),
            Err(p) => problems.extend(p),
        }
    }
    set_pairs(&mut raw, &args.set, &mut problems)?;
    let flags = [
        ("name", &args.name),
        ("language", &args.language),
        ("cloud", &args.cloud),
        ("registry", &args.registry),
        ("rollout", &args.rollout),
        ("ci", &args.ci),
        ("gitops", &args.gitops),
        ("org", &args.org),
        ("team", &args.team),
        ("port", &args.port),
        ("region", &args.region),
        ("account", &args.account),
        ("tenant", &args.tenant),
        ("slo_target", &args.slo_target),
    ];
    for (key, value) in flags {
        if let Some(v) = value {
            raw.set(key, v.clone(), Origin::Flag)
                .expect("flags are field keys");
        }
    }
    Ok((raw, problems))
}

#[derive(Serialize)]
struct Report<'a> {
    target: String,
    dry_run: bool,
    generator_version: &'static str,
    answers: &'a Answers,
    files: &'a [Entry],
    #[serde(skip_serializing_if = "Option::is_none")]
    diffs: Option<Vec<FileDiff>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<String>,
}

#[derive(Serialize)]
struct FileDiff {
    path: String,
    diff: String,
}

fn new(args: NewArgs, out: &mut dyn Write) -> Result<i32, Error> {
    let (raw, earlier) = gather(&args.answers)?;
    // Refuse a full target before asking anything.
    if let Some(path) = &args.path {
        Plan::for_new(path, Default::default())?;
    }
    let interactive = !args.answers.non_interactive && std::io::stdin().is_terminal();
    let mut wizard = Wizard;
    let answers = answers::resolve(
        &raw,
        &mut Resolve {
            dir_name: args.path.as_deref().and_then(answers::dir_name),
            take_defaults: args.answers.yes,
            prompter: if interactive { Some(&mut wizard) } else { None },
            earlier,
        },
    )?;
    let target = args
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from(&answers.name));
    let plan = Plan::for_new(&target, args.templates.renderer()?.render(&answers)?)?;

    if args.dry_run {
        let diffs = if args.diff { Some(diffs(&plan)?) } else { None };
        match args.format {
            Format::Json => print_json(out, &report(&plan, &answers, true, diffs, None)),
            Format::Human => print_plan(out, &plan, diffs.as_deref()),
        }
        return Ok(exit::OK);
    }

    let message = commit_message(&answers);
    let applied = apply::apply_new(&plan, (!args.no_git).then_some(message.as_str()))?;
    match args.format {
        Format::Json => print_json(
            out,
            &report(
                &plan,
                &answers,
                false,
                None,
                applied.commit.as_ref().map(|c| c.id.clone()),
            ),
        ),
        Format::Human => print_created(out, &plan, &applied),
    }
    if applied.commit.as_ref().is_some_and(|c| c.fallback_identity) {
        eprintln!(
            "note: git has no user.name/user.email configured; the first commit is by `{} <{}>`.\n      Fix it with `git commit --amend --reset-author` after setting them.",
            crate::git::FALLBACK_NAME,
            crate::git::FALLBACK_EMAIL
        );
    }
    Ok(exit::OK)
}

fn commit_message(a: &Answers) -> String {
    let answers: Vec<String> = a
        .to_pairs()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    upgrade::render_message(
        &format!("Scaffold {} with infra-new {VERSION}", a.name),
        &format!("Answers: {}", answers.join(" ")),
        VERSION,
    )
}

fn diffs(plan: &Plan) -> Result<Vec<FileDiff>, Error> {
    let mut out = Vec::new();
    for entry in &plan.entries {
        if let Some(diff) = plan.diff(&entry.path)? {
            out.push(FileDiff {
                path: entry.path.clone(),
                diff,
            });
        }
    }
    Ok(out)
}

fn report<'a>(
    plan: &'a Plan,
    answers: &'a Answers,
    dry_run: bool,
    diffs: Option<Vec<FileDiff>>,
    commit: Option<String>,
) -> Report<'a> {
    Report {
        target: plan.target.display().to_string(),
        dry_run,
        generator_version: VERSION,
        answers,
        files: &plan.entries,
        diffs,
        commit,
    }
}

fn print_json(out: &mut dyn Write, value: &impl Serialize) {
    let _ = serde_json::to_writer_pretty(&mut *out, value);
    let _ = writeln!(out);
}

fn human_size(bytes: usize) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

fn print_plan(out: &mut dyn Write, plan: &Plan, diffs: Option<&[FileDiff]>) {
    let _ = writeln!(
        out,
        "Plan for `{}` (dry run: nothing is written)",
        plan.target.display()
    );
    for e in &plan.entries {
        let _ = writeln!(
            out,
            "  {:<9} {}  ({})",
            e.action.as_str(),
            e.path,
            human_size(e.size)
        );
    }
    let _ = writeln!(
        out,
        "{} files: {} new, {} unchanged, {} in all",
        plan.entries.len(),
        plan.count(Action::Create),
        plan.count(Action::Unchanged),
        human_size(plan.total_size())
    );
    for d in diffs.unwrap_or_default() {
        let _ = write!(out, "{}", d.diff);
    }
}

fn print_created(out: &mut dyn Write, plan: &Plan, applied: &apply::Applied) {
    let shown = plan.target.display();
    let _ = write!(
        out,
        "Created `{shown}`: {} files, {}",
        applied.files,
        human_size(plan.total_size())
    );
    match &applied.commit {
        Some(c) => {
            let _ = writeln!(out, ", committed as {} on branch main.", &c.id[..12]);
        }
        None => {
            let _ = writeln!(out, " (no git repository: --no-git).");
        }
    }
    let _ = writeln!(
        out,
        "\nNext steps:\n  cd {shown}\n  make test                   # the service's unit tests\n  docker compose up --build  # the image, run as the cluster runs it\n  less README.md             # deploy, promote, roll back; runbooks in docs/runbooks/"
    );
}

fn upgrade_cmd(args: UpgradeArgs, out: &mut dyn Write) -> Result<i32, Error> {
    let dir = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    if args.abort {
        upgrade::abort(&dir)?;
        let _ = writeln!(
            out,
            "Upgrade aborted: the files, the index and HEAD are as they were before it."
        );
        return Ok(exit::OK);
    }
    let ws = Workspace::open(&dir)?;
    let last = ws.last_render()?.ok_or(Error::NoRender {
        shallow: ws.is_shallow(),
    })?;
    let recorded = ws.head_file(ANSWERS_FILE)?.ok_or(Error::NoAnswersFile)?;
    let recorded = String::from_utf8_lossy(&recorded).into_owned();
    let mut problems = Vec::new();
    let mut raw = RawAnswers::from_toml(&recorded, Origin::File(ANSWERS_FILE.into()))
        .map_err(Error::InvalidAnswers)?;
    set_pairs(&mut raw, &args.set, &mut problems)?;
    let interactive = std::io::stdin().is_terminal();
    let mut wizard = Wizard;
    // Answers added by a newer version take their defaults, as with `--yes`.
    let answers = answers::resolve(
        &raw,
        &mut Resolve {
            dir_name: None,
            take_defaults: true,
            prompter: if interactive { Some(&mut wizard) } else { None },
            earlier: problems,
        },
    )?;
    let tree = args
        .templates
        .renderer()?
        .render_kind(&answers, upgrade::recorded_kind(&recorded))?;
    let messages = merge_messages(&answers, Some(&last), &args.set);
    merge_and_report(
        &ws,
        Some(&last),
        tree,
        &answers,
        &messages,
        args.dry_run,
        args.format,
        out,
    )
}

fn init_cmd(args: InitArgs, out: &mut dyn Write) -> Result<i32, Error> {
    let dir = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let ws = Workspace::open(&dir)?;
    if ws.last_render()?.is_some() {
        return Err(Error::AlreadyAdopted);
    }
    let (given, earlier) = gather(&args.answers)?;
    // A scaffold made with --no-git and committed later brings its answers and its skeleton;
    // any other repository has its own code, and the language is told by its build manifest.
    let (mut raw, kind) = match ws.head_file(ANSWERS_FILE)? {
        Some(bytes) => {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let raw = RawAnswers::from_toml(&text, Origin::File(ANSWERS_FILE.into()))
                .map_err(Error::InvalidAnswers)?;
            (raw, upgrade::recorded_kind(&text))
        }
        None => {
            let mut raw = RawAnswers::default();
            if let Some((language, file)) = upgrade::detect_language(&ws)? {
                raw.set("language", language.id(), Origin::Detected(file.into()))
                    .expect("language is a field");
            }
            (raw, Kind::Adopted)
        }
    };
    raw.overlay(given);
    let interactive = !args.answers.non_interactive && std::io::stdin().is_terminal();
    let mut wizard = Wizard;
    let answers = answers::resolve(
        &raw,
        &mut Resolve {
            dir_name: answers::dir_name(ws.root()),
            take_defaults: args.answers.yes,
            prompter: if interactive { Some(&mut wizard) } else { None },
            earlier,
        },
    )?;
    let tree = args.templates.renderer()?.render_kind(&answers, kind)?;
    let messages = merge_messages(&answers, None, &[]);
    merge_and_report(
        &ws,
        None,
        tree,
        &answers,
        &messages,
        args.dry_run,
        args.format,
        out,
    )
}

/// The render commit's and the merge's messages, and the conflict labels.
fn merge_messages(a: &Answers, last: Option<&LastRender>, set: &[String]) -> Messages {
    let pairs: Vec<String> = a
        .to_pairs()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let (subject, merge) = match last {
        Some(l) if set.is_empty() => (
            format!("Render {} with infra-new {VERSION}", a.name),
            format!(
                "Upgrade {} from infra-new {} to {VERSION}\n",
                a.name, l.version
            ),
        ),
        Some(_) => (
            format!("Render {} with infra-new {VERSION}", a.name),
            format!(
                "Reconfigure {} with infra-new {VERSION}: {}\n",
                a.name,
                set.join(" ")
            ),
        ),
        None => (
            format!(
                "Render the infrastructure of {} with infra-new {VERSION}",
                a.name
            ),
            format!("Adopt infra-new {VERSION} for {}\n", a.name),
        ),
    };
    Messages {
        render: upgrade::render_message(
            &subject,
            &format!(
                "Exactly what infra-new rendered: the base of the next `infra-new upgrade`.\n\nAnswers: {}",
                pairs.join(" ")
            ),
            VERSION,
        ),
        merge,
        base_label: match last {
            Some(l) => format!("infra-new {} (last render)", l.version),
            None => "nothing (adopted)".into(),
        },
        render_label: format!("infra-new {VERSION}"),
    }
}

#[derive(Serialize)]
struct UpgradeReport<'a> {
    root: String,
    dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    from_version: Option<&'a str>,
    to_version: &'static str,
    up_to_date: bool,
    answers: &'a Answers,
    files: Vec<&'a Entry>,
    conflicts: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    render: Option<&'a str>,
}

#[allow(clippy::too_many_arguments)]
fn merge_and_report(
    ws: &Workspace,
    last: Option<&LastRender>,
    tree: render::Tree,
    answers: &Answers,
    messages: &Messages,
    dry_run: bool,
    format: Format,
    out: &mut dyn Write,
) -> Result<i32, Error> {
    let (upgrade, outcome) = ws.merge(last, tree, (!dry_run).then_some(messages))?;
    let changed: Vec<&Entry> = upgrade
        .plan
        .entries
        .iter()
        .filter(|e| e.action != Action::Unchanged)
        .collect();
    match format {
        Format::Json => print_json(
            out,
            &UpgradeReport {
                root: ws.root().display().to_string(),
                dry_run,
                from_version: last.map(|l| l.version.as_str()),
                to_version: VERSION,
                up_to_date: upgrade.up_to_date,
                answers,
                files: changed.clone(),
                conflicts: &upgrade.conflicts,
                commit: outcome.as_ref().and_then(|o| o.commit.as_deref()),
                render: outcome.as_ref().map(|o| o.render.as_str()),
            },
        ),
        Format::Human => {
            if upgrade.up_to_date {
                let _ = writeln!(
                    out,
                    "Already up to date: infra-new {VERSION} renders exactly what the branch last merged. Nothing to do."
                );
            } else {
                let what = match last {
                    Some(l) => format!("from infra-new {} to {VERSION}", l.version),
                    None => format!("adopting infra-new {VERSION}"),
                };
                let _ = writeln!(
                    out,
                    "{} `{}` {what}{}",
                    if last.is_some() {
                        "Upgrade of"
                    } else {
                        "Init of"
                    },
                    ws.root().display(),
                    if dry_run {
                        " (dry run: nothing is written)"
                    } else {
                        ""
                    }
                );
                for e in &changed {
                    let _ = writeln!(out, "  {:<12} {}", e.action.as_str(), e.path);
                }
                let count = |a: Action| {
                    upgrade
                        .plan
                        .entries
                        .iter()
                        .filter(|e| e.action == a)
                        .count()
                };
                let _ = writeln!(
                    out,
                    "{} new, {} updated, {} merged with your edits, {} conflicts, {} removed, {} kept deleted, {} unchanged",
                    count(Action::Create),
                    count(Action::Update),
                    count(Action::Merge),
                    count(Action::Conflict),
                    count(Action::Remove),
                    count(Action::KeepDeleted),
                    count(Action::Unchanged),
                );
                match (&outcome, upgrade.conflicts.is_empty()) {
                    (Some(o), true) => {
                        let _ = writeln!(
                            out,
                            "Merged as {} (the render is commit {}).",
                            o.commit.as_deref().map_or("", |c| &c[..12]),
                            &o.render[..12]
                        );
                    }
                    (Some(_), false) => {
                        let _ = writeln!(
                            out,
                            "{} file(s) have conflicts: resolve them, `git add` them and `git commit`; or undo everything with `infra-new upgrade --abort` (or `git merge --abort`).",
                            upgrade.conflicts.len()
                        );
                    }
                    (None, _) => {}
                }
            }
        }
    }
    Ok(if upgrade.conflicts.is_empty() {
        exit::OK
    } else {
        exit::CONFLICTS
    })
}
