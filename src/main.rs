use clap::FromArgMatches as _;

fn main() {
    let matches = keystead::cli::args::command().get_matches();
    let cli = keystead::cli::args::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    keystead::logging::init(cli.log_format);
    if let Err(e) = keystead::cli::run(cli) {
        eprintln!("keystead: {}", keystead::cli::describe(&e));
        std::process::exit(1);
    }
}
