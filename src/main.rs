use clap::FromArgMatches as _;

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let matches = keystead::cli::args::command().get_matches();
    let cli = keystead::cli::args::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let Err(e) = keystead::cli::run(cli) {
        eprintln!("keystead: {}", keystead::cli::describe(&e));
        std::process::exit(1);
    }
}
