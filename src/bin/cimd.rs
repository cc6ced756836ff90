//! `cimd`: resolve and lint Client ID Metadata Documents from the command line (docs/contract.md §9, §11.9,
//! §11.10).
//!
//! ```text
//! cimd resolve [--config FILE] [--redirect-uri URI] [--json] CLIENT_ID...
//! cimd lint [--client-id URL] [--config FILE] [--redirect-uri URI] [--json] FILE
//! cimd config-schema
//! ```
//!
//! On a pipe it prints JSON Lines, one per CLIENT_ID; on a terminal (without `--json`) it explains each outcome
//! and, for failures, how to fix them. Exit status: 0 all ok, 1 any rejected, 2 usage or configuration error.
//! Options may come before or after the operands; `--` ends them. Output to a closed pipe ends the program
//! quietly, with the exit status of what was done so far.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use cimd::{Config, Engine, Error, Resolution};

const USAGE: &str = "\
usage:
  cimd resolve [--config FILE] [--redirect-uri URI] [--json] CLIENT_ID...
  cimd lint [--client-id URL] [--config FILE] [--redirect-uri URI] [--json] FILE
  cimd config-schema
  cimd --help | --version

resolve        fetch, validate and cache each CLIENT_ID (an https URL) in order, through one engine
lint           validate a local client metadata document as a server would, without any network access,
               and report every problem it has
config-schema  print every configuration key (type, default, range, meaning) as JSON

options (before or after the operands; -- ends them):
  --config FILE        engine configuration, a JSON object (cimd config-schema lists the keys); default: safe
                       defaults
  --redirect-uri URI   check URI as an authorization request's redirect_uri would be checked
  --client-id URL      (lint) the client_id the document is served at; default: its own client_id member
  --json               JSON Lines even on a terminal

exit status: 0 every item ok, 1 any item rejected, 2 usage or configuration error";

struct Args {
    command: Command,
    config: Option<String>,
    redirect_uri: Option<String>,
    client_id: Option<String>,
    json: bool,
    operands: Vec<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Command {
    Resolve,
    Lint,
    ConfigSchema,
}

enum Parsed {
    Run(Args),
    Help,
    Version,
}

/// The options that take a value, and which subcommands accept them.
fn takes_value(name: &str, command: Command) -> bool {
    match name {
        "--config" | "--redirect-uri" => command != Command::ConfigSchema,
        "--client-id" => command == Command::Lint,
        _ => false,
    }
}

fn parse_args(argv: &[String]) -> Result<Parsed, String> {
    let Some(first) = argv.first() else {
        return Err("missing subcommand".into());
    };
    let command = match first.as_str() {
        "resolve" => Command::Resolve,
        "lint" => Command::Lint,
        "config-schema" => Command::ConfigSchema,
        "-h" | "--help" | "help" => return Ok(Parsed::Help),
        "-V" | "--version" => return Ok(Parsed::Version),
        other => return Err(format!("unknown subcommand {other:?}")),
    };
    let mut args = Args {
        command,
        config: None,
        redirect_uri: None,
        client_id: None,
        json: false,
        operands: Vec::new(),
    };
    let mut rest = argv[1..].iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            args.operands.extend(rest.by_ref().cloned());
            break;
        }
        if !arg.starts_with('-') || arg == "-" {
            args.operands.push(arg.clone());
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        if takes_value(name, command) {
            // The value is the next argument, unless that is itself an option: then the value is missing, and
            // the next argument is never swallowed (use --opt=VALUE for a value that starts with "--").
            let value = match inline {
                Some(v) => v,
                None => match rest.as_slice().first() {
                    Some(next) if !next.starts_with("--") => {
                        rest.next();
                        next.clone()
                    }
                    Some(next) => return Err(format!("{name} needs a value, but {next:?} follows it")),
                    None => return Err(format!("{name} needs a value")),
                },
            };
            let slot = match name {
                "--config" => &mut args.config,
                "--redirect-uri" => &mut args.redirect_uri,
                _ => &mut args.client_id,
            };
            if slot.is_some() {
                return Err(format!("{name} given twice"));
            }
            *slot = Some(value);
            continue;
        }
        match name {
            "--json" if inline.is_none() && command != Command::ConfigSchema => args.json = true,
            "-h" | "--help" => return Ok(Parsed::Help),
            _ => return Err(format!("unknown option {name:?} for {first}")),
        }
    }
    match args.command {
        Command::Resolve if args.operands.is_empty() => Err("resolve needs at least one CLIENT_ID".into()),
        Command::Lint if args.operands.len() != 1 => Err(format!(
            "lint needs exactly one FILE, got {}",
            args.operands.len()
        )),
        Command::ConfigSchema if !args.operands.is_empty() => Err("config-schema takes no operand".into()),
        _ => Ok(Parsed::Run(args)),
    }
}

fn load_config(path: Option<&str>) -> Result<Config, String> {
    match path {
        None => Ok(Config::default()),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read config file {path:?}: {e}"))?;
            Config::from_json(&text).map_err(|e| format!("{path}: {e}"))
        }
    }
}

/// Where output goes. A write to a closed pipe (`cimd --help | head -1`) is not an error worth a message: it
/// stops the output, and the program ends quietly.
struct Out {
    stdout: io::StdoutLock<'static>,
    closed: bool,
}

impl Out {
    fn new() -> Out {
        Out {
            stdout: io::stdout().lock(),
            closed: false,
        }
    }

    /// Writes one line; false once the reader has gone away.
    fn line(&mut self, text: &str) -> bool {
        if !self.closed {
            let written = writeln!(self.stdout, "{text}").and_then(|()| self.stdout.flush());
            self.closed = written.is_err();
        }
        !self.closed
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut out = Out::new();
    let args = match parse_args(&argv) {
        Ok(Parsed::Run(a)) => a,
        Ok(Parsed::Help) => {
            out.line(USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Version) => {
            out.line(&format!("cimd {}", env!("CARGO_PKG_VERSION")));
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            let _ = writeln!(io::stderr(), "cimd: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if args.command == Command::ConfigSchema {
        out.line(&cimd::config::schema_json().to_string());
        return ExitCode::SUCCESS;
    }
    let engine =
        match load_config(args.config.as_deref()).and_then(|c| Engine::new(c).map_err(|e| e.to_string())) {
            Ok(e) => e,
            Err(msg) => {
                let _ = writeln!(io::stderr(), "cimd: {msg}");
                return ExitCode::from(2);
            }
        };
    let human = !args.json && io::stdout().is_terminal();
    let mut all_ok = true;
    match args.command {
        Command::Resolve => {
            for client_id in &args.operands {
                let result = engine.resolve_blocking(client_id, args.redirect_uri.as_deref(), None);
                all_ok &= result.is_ok();
                let text = match (&result, human) {
                    (Ok(r), true) => human_ok(client_id, r, false),
                    (Ok(r), false) => r.to_json_line(),
                    (Err(e), true) => human_rejected(client_id, std::slice::from_ref(e)),
                    (Err(e), false) => e.to_json_line(),
                };
                if !out.line(&text) {
                    break;
                }
            }
        }
        Command::Lint => {
            let file = &args.operands[0];
            let body = match std::fs::read(file) {
                Ok(b) => b,
                Err(e) => {
                    let _ = writeln!(io::stderr(), "cimd: cannot read {file:?}: {e}");
                    return ExitCode::from(2);
                }
            };
            let result = engine.lint_all(&body, args.client_id.as_deref(), args.redirect_uri.as_deref());
            all_ok = result.is_ok();
            let text = match (&result, human) {
                (Ok(r), true) => human_ok(file, r, true),
                (Ok(r), false) => r.to_json_line(),
                (Err(findings), true) => human_rejected(file, findings),
                (Err(findings), false) => Error::lint_json_line(findings),
            };
            out.line(&text);
        }
        Command::ConfigSchema => {}
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn human_ok(label: &str, r: &Resolution, lint: bool) -> String {
    let m = r.metadata();
    let mut s = format!("OK  {label}\n");
    let host = r.client().display_host();
    s += &format!("    client_id      {}\n", m.client_id);
    if let Some(name) = &m.client_name {
        s += &format!("    name           {name}\n");
    }
    if host.unicode != host.ascii {
        s += &format!("    host           {} ({})\n", host.unicode, host.ascii);
    } else {
        s += &format!("    host           {}\n", host.ascii);
    }
    s += &format!("    auth method    {}\n", m.token_endpoint_auth_method);
    s += &format!("    grant types    {}\n", m.grant_types.join(", "));
    for (i, uri) in m.redirect_uris.iter().enumerate() {
        let label = if i == 0 {
            "redirect_uris  "
        } else {
            "               "
        };
        s += &format!("    {label}{uri}\n");
    }
    if !lint {
        s += &format!(
            "    source         {} (fresh until {})\n",
            r.source().as_str(),
            cimd::rfc3339(r.expires_at())
        );
    }
    for w in r.client().warnings() {
        s += &format!("    warning        {}\n", cimd::rules::warning_sentence(w));
    }
    if !r.client().changed().is_empty() {
        s += &format!("    changed        {}\n", r.client().changed().join(", "));
    }
    s.trim_end().to_owned()
}

fn human_rejected(label: &str, findings: &[Error]) -> String {
    let mut s = format!("REJECTED  {label}");
    if findings.len() > 1 {
        s += &format!(" ({} problems)", findings.len());
    }
    for (i, e) in findings.iter().enumerate() {
        if findings.len() > 1 {
            s += &format!("\n  {}.", i + 1);
        }
        s += &format!("\n    error   {}", e.code());
        if let Some(rule) = e.rule() {
            s += &format!("\n    rule    {rule} (docs/contract.md)");
        }
        s += &format!("\n    why     {}\n    fix     {}", e.description(), e.fix());
    }
    s
}
