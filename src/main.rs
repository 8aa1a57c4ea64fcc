use clap::Parser as _;

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = keystead::config::Cli::parse();
    if let Err(e) = keystead::cli::run(cli) {
        eprintln!("keystead: {e}");
        std::process::exit(1);
    }
}
