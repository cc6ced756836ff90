//! `cimd`: resolve and lint Client ID Metadata Documents from the command line (decisions.md §9).
//!
//! ```text
//! cimd resolve [--config FILE] [--redirect-uri URI] [--json] CLIENT_ID...
//! cimd lint [--client-id URL] [--config FILE] [--redirect-uri URI] [--json] FILE
//! ```
//!
//! On a pipe it prints JSON Lines, one per CLIENT_ID; on a terminal (without `--json`) it explains each outcome
//! and, for failures, how to fix them. Exit status: 0 all ok, 1 any rejected, 2 usage or configuration error.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use cimd::{Config, Engine, Error, ErrorCode, Resolution};

const USAGE: &str = "\
usage:
  cimd resolve [--config FILE] [--redirect-uri URI] [--json] CLIENT_ID...
  cimd lint [--client-id URL] [--config FILE] [--redirect-uri URI] [--json] FILE
  cimd --help | --version

resolve  fetch, validate and cache each CLIENT_ID (an https URL) in order, through one engine
lint     validate a local client metadata document as a server would, without any network access

options (before the operands):
  --config FILE        engine configuration, a JSON object (keys: see the README); default: safe defaults
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

#[derive(PartialEq)]
enum Command {
    Resolve,
    Lint,
}

enum Parsed {
    Run(Args),
    Help,
    Version,
}

fn parse_args(argv: &[String]) -> Result<Parsed, String> {
    let Some(first) = argv.first() else {
        return Err("missing subcommand".into());
    };
    let command = match first.as_str() {
        "resolve" => Command::Resolve,
        "lint" => Command::Lint,
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
        if !args.operands.is_empty() || !arg.starts_with('-') || arg == "-" {
            args.operands.push(arg.clone());
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = |slot: &mut Option<String>| -> Result<(), String> {
            if slot.is_some() {
                return Err(format!("{name} given twice"));
            }
            let v = match inline.clone() {
                Some(v) => v,
                None => rest
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value"))?,
            };
            *slot = Some(v);
            Ok(())
        };
        match name {
            "--config" => value(&mut args.config)?,
            "--redirect-uri" => value(&mut args.redirect_uri)?,
            "--client-id" if args.command == Command::Lint => value(&mut args.client_id)?,
            "--json" if inline.is_none() => args.json = true,
            "-h" | "--help" => return Ok(Parsed::Help),
            "--" => {
                args.operands.extend(rest.by_ref().cloned());
                break;
            }
            _ => return Err(format!("unknown option {name:?}")),
        }
    }
    match args.command {
        Command::Resolve if args.operands.is_empty() => Err("resolve needs at least one CLIENT_ID".into()),
        Command::Lint if args.operands.len() != 1 => Err("lint needs exactly one FILE".into()),
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

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(&argv) {
        Ok(Parsed::Run(a)) => a,
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Version) => {
            println!("cimd {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("cimd: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let engine =
        match load_config(args.config.as_deref()).and_then(|c| Engine::new(c).map_err(|e| e.to_string())) {
            Ok(e) => e,
            Err(msg) => {
                eprintln!("cimd: {msg}");
                return ExitCode::from(2);
            }
        };
    let human = !args.json && std::io::stdout().is_terminal();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut all_ok = true;
    let mut emit = |label: &str, result: Result<Resolution, Error>, out: &mut dyn Write| {
        all_ok &= result.is_ok();
        let text = if human {
            human_form(label, &result, args.command == Command::Lint)
        } else {
            json_line(&result)
        };
        // A closed pipe is not worth a panic; the exit status still tells.
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    };
    match args.command {
        Command::Resolve => {
            for client_id in &args.operands {
                let result = engine.resolve_blocking(client_id, args.redirect_uri.as_deref(), None);
                emit(client_id, result, &mut out);
            }
        }
        Command::Lint => {
            let file = &args.operands[0];
            let body = match std::fs::read(file) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("cimd: cannot read {file:?}: {e}");
                    return ExitCode::from(2);
                }
            };
            let result = engine.lint(&body, args.client_id.as_deref(), args.redirect_uri.as_deref());
            emit(file, result, &mut out);
        }
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn json_line(result: &Result<Resolution, Error>) -> String {
    match result {
        Ok(r) => r.to_json_line(),
        Err(e) => e.to_json_line(),
    }
}

/// How a client developer fixes each kind of failure.
fn fix_hint(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::InvalidClientIdUrl => {
            "publish the document at a plain https URL with a path, no query, fragment, userinfo, dot segments or IP address"
        }
        ErrorCode::HostNotAllowed => "this server only accepts clients from the hosts its operator listed",
        ErrorCode::BlockedAddress => "serve the document from a publicly routable address",
        ErrorCode::DnsError => "check that the host name exists in public DNS",
        ErrorCode::ConnectError => "check that the host accepts HTTPS connections on that port",
        ErrorCode::TlsError => "serve a valid certificate for the host from a publicly trusted CA",
        ErrorCode::Timeout => "the host must answer within the server's time limit (default 5 s)",
        ErrorCode::HttpStatus => "serve the document with status 200 at exactly this URL",
        ErrorCode::RedirectNotFollowed => "serve the document at the client_id URL itself; redirects are not followed",
        ErrorCode::TooLarge => "keep the document small (servers read at most 5 KB by default)",
        ErrorCode::InvalidContentType => "serve it as Content-Type: application/json, without compression",
        ErrorCode::InvalidJson => "fix the JSON: UTF-8, no duplicate member names, no trailing commas",
        ErrorCode::InvalidMetadata => "fix the field named above (see RFC 7591 §2 for the metadata fields)",
        ErrorCode::ClientIdMismatch => "set client_id in the document to the exact URL it is served at, byte for byte",
        ErrorCode::ForbiddenMetadata => "remove secrets and private keys; use none or private_key_jwt",
        ErrorCode::UnsupportedAuthMethod => {
            "list a method this server supports (usually none) in token_endpoint_auth_methods_supported"
        }
        ErrorCode::RedirectUriMismatch => "register the exact redirect URI in redirect_uris",
        ErrorCode::RateLimited => "the server is limiting fetches to this host; try again shortly",
        ErrorCode::Internal => "this is a bug in cimd; please report it",
    }
}

fn human_form(label: &str, result: &Result<Resolution, Error>, lint: bool) -> String {
    match result {
        Ok(r) => {
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
                s += &format!(
                    "    {}{uri}\n",
                    if i == 0 {
                        "redirect_uris  "
                    } else {
                        "               "
                    }
                );
            }
            if !lint {
                s += &format!(
                    "    source         {} (fresh until {})\n",
                    r.source().as_str(),
                    cimd::result::rfc3339(r.expires_at())
                );
            }
            for w in r.client().warnings() {
                s += &format!("    warning        {w}\n");
            }
            if !r.client().changed().is_empty() {
                s += &format!("    changed        {}\n", r.client().changed().join(", "));
            }
            s.trim_end().to_owned()
        }
        Err(e) => format!(
            "REJECTED  {label}\n    error   {}\n    why     {}\n    fix     {}",
            e.code(),
            e.description(),
            fix_hint(e.code())
        ),
    }
}
