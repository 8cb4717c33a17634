//! The command line: one subcommand per kind (`training-job`, `endpoint`, ...: every kind
//! of [`kinds::for_each`], named as its component.yaml's command runs it,
//! [`component_runtime::Component::SUBCOMMAND`]), each with the kind's generated input and
//! output flags and the launcher's own options ([`RunOptions`]), and help texts that speak
//! of the kind.

use std::time::Duration;

use clap::{Args, Command};

use crate::kinds::{self, Kind, Visit};
use crate::plan::MAX_OBJECT_BYTES;

/// The whole command line.
pub fn command() -> Command {
    struct Subcommands(Vec<Command>);
    impl Visit for Subcommands {
        fn kind<K: Kind>(&mut self) {
            self.0.push(Step::<K>::command());
        }
    }
    let mut subcommands = Subcommands(Vec::new());
    kinds::for_each(&mut subcommands);
    Command::new("ack-kfp-launcher")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Runs an ACK resource as a KFP component step")
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommands(subcommands.0)
}

/// One subcommand: the kind's generated input and output flags and the launcher's own.
#[derive(Debug, Args)]
pub struct Step<K: Kind> {
    #[command(flatten)]
    pub inputs: K::Inputs,
    #[command(flatten)]
    pub outputs: K::OutputPaths,
    #[command(flatten)]
    pub run: RunOptions,
}

impl<K: Kind> Step<K> {
    /// The kind's subcommand, with the help texts that depend on the kind.
    fn command() -> Command {
        let updated = if K::UPDATABLE_FIELDS.is_empty() {
            ""
        } else {
            " (created, or updated when one of its name exists)"
        };
        let (noun, name_input) = (K::NOUN, K::NAME_INPUT);
        let time_limit = K::TIME_LIMIT.map_or_else(
            || "none: SageMaker's stopping condition bounds the job".to_owned(),
            |limit| limit.as_secs().to_string(),
        );
        Self::augment_args(Command::new(K::SUBCOMMAND))
            .about(format!("A SageMaker {}{updated}", K::KIND))
            .mut_arg("kfp_run_id", |arg| {
                arg.help(format!(
                    "The KFP run, as the backend substitutes it into component.yaml \
                     (`{{{{workflow.uid}}}}`). With `--kfp-step-id` it names the {noun} when \
                     {name_input} is empty, and is recorded on the {noun}: every retry \
                     attempt of a step re-attaches, other runs never do"
                ))
            })
            .mut_arg("time_limit", |arg| {
                arg.help(format!(
                    "Fail when the {noun} is not done (or an update not finished) this long \
                     after the launcher began following it [default: {time_limit}]"
                ))
            })
    }
}

/// The launcher's own options, the same for every kind. A generated flag must not take
/// one of their names: `codegen::component::LAUNCHER_OPTIONS` lists them (checked below
/// against this command).
#[derive(Debug, Args)]
pub struct RunOptions {
    /// Print the custom resource as YAML and exit without contacting a cluster.
    #[arg(long)]
    pub dry_run: bool,
    /// The namespace to create the resource in [default: the pod's service account
    /// namespace, else the kubeconfig context's, else `default`].
    #[arg(long, value_name = "NAME")]
    pub namespace: Option<String>,
    /// Fail when the ACK controller has written no status this long after the create.
    #[arg(long, value_name = "SECONDS", default_value = "600", value_parser = seconds)]
    pub status_timeout: Duration,
    /// Fail when an ACK.Recoverable error has lasted this long.
    #[arg(long, value_name = "SECONDS", default_value = "1800", value_parser = seconds)]
    pub recoverable_timeout: Duration,
    /// Refuse a resource larger than this, as JSON (etcd's default limit per object).
    #[arg(long, value_name = "BYTES", default_value_t = MAX_OBJECT_BYTES)]
    pub max_object_bytes: usize,
    /// Fail when the Kubernetes API has been unreachable or failing this long.
    #[arg(long, value_name = "SECONDS", default_value = "300", value_parser = seconds)]
    pub api_timeout: Duration,
    /// Fail when the resource is not done (or an update not finished) this long after
    /// the launcher began following it [default: the kind's].
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub time_limit: Option<Duration>,
    /// The KFP run, as the backend substitutes it into component.yaml (`{{workflow.uid}}`):
    /// with `--kfp-step-id` it names the resource when its name input is empty, and is
    /// recorded on it.
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    pub kfp_run_id: Option<String>,
    /// The step within the run, the same for each retry attempt (`{{node.name}}`).
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    pub kfp_step_id: Option<String>,
}

fn seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("expected a number of seconds, got `{text}`"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use codegen::component::LAUNCHER_OPTIONS;

    use super::*;

    #[test]
    fn the_command_is_valid_for_every_kind() {
        command().debug_assert();
    }

    /// The generator renames a spec field that would take one of the launcher's own
    /// options: every argument of every subcommand that is not one of its kind's generated
    /// flags is reserved, and nothing else is.
    #[test]
    fn the_launchers_own_options_are_the_ones_the_generator_reserves() {
        let mut own = BTreeSet::new();
        let mut launcher = command();
        launcher.build();
        for subcommand in launcher.get_subcommands() {
            let mut generated = Command::new("generated");
            generated = GeneratedFlags::augment(subcommand.get_name(), generated);
            let generated: BTreeSet<&str> = generated
                .get_arguments()
                .map(|a| a.get_id().as_str())
                .collect();
            own.extend(
                subcommand
                    .get_arguments()
                    .map(|a| a.get_id().to_string())
                    .filter(|id| !generated.contains(id.as_str())),
            );
        }
        own.extend(launcher.get_arguments().map(|a| a.get_id().to_string()));
        let reserved: BTreeSet<String> = LAUNCHER_OPTIONS.iter().map(|s| (*s).to_owned()).collect();
        assert!(own.len() >= 11, "{own:?}");
        assert_eq!(own, reserved);
    }

    /// The generated flags of the kind with this subcommand.
    struct GeneratedFlags<'a> {
        subcommand: &'a str,
        command: Option<Command>,
    }

    impl GeneratedFlags<'_> {
        fn augment(subcommand: &str, command: Command) -> Command {
            let mut flags = GeneratedFlags {
                subcommand,
                command: Some(command),
            };
            kinds::for_each(&mut flags);
            flags.command.expect("a command")
        }
    }

    impl Visit for GeneratedFlags<'_> {
        fn kind<K: Kind>(&mut self) {
            if K::SUBCOMMAND == self.subcommand {
                let command = self.command.take().expect("a command");
                let command = <K::Inputs as Args>::augment_args(command);
                self.command = Some(<K::OutputPaths as Args>::augment_args(command));
            }
        }
    }

    /// Each kind's help speaks of the kind at hand: its noun and its name input.
    #[test]
    fn the_help_speaks_of_the_kind() {
        struct Check(usize);
        impl Visit for Check {
            fn kind<K: Kind>(&mut self) {
                let help = Step::<K>::command().render_long_help().to_string();
                for expected in [
                    format!("names the {} when {} is empty", K::NOUN, K::NAME_INPUT),
                    format!("Fail when the {} is not done", K::NOUN),
                ] {
                    assert!(help.contains(&expected), "{expected}:\n{help}");
                }
                self.0 += 1;
            }
        }
        let mut check = Check(0);
        kinds::for_each(&mut check);
        assert_eq!(check.0, 13);
    }
}
