//! The files a self-hoster deploys with: the systemd unit passes `systemd-analyze verify`,
//! leaves room for every connection's thread, and its settings file names only variables
//! the binary reads.
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_keystead");
const UNIT: &str = include_str!("../../deploy/keystead.service");
const ENV_EXAMPLE: &str = include_str!("../../deploy/keystead.env.example");

/// The value of the unit's `Name=` setting (the last one wins, as in systemd).
fn setting<'a>(name: &str) -> Vec<&'a str> {
    let prefix = format!("{name}=");
    UNIT.lines().filter_map(|l| l.strip_prefix(prefix.as_str())).collect()
}

#[test]
fn the_systemd_unit_verifies() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The unit names the installed path; verify checks that the binary exists, so point it
    // at the one just built.
    let unit = dir.path().join("keystead.service");
    std::fs::write(&unit, UNIT.replace("/usr/local/bin/keystead", BIN)).expect("write unit");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .expect("systemd-analyze runs (test.sh installs systemd)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.trim().is_empty(), "systemd-analyze verify: {stderr}");
}

#[test]
fn the_unit_runs_serve_unprivileged_and_hardened() {
    assert_eq!(setting("ExecStart"), ["/usr/local/bin/keystead serve"]);
    for (name, value) in [
        ("DynamicUser", "yes"),
        ("StateDirectory", "keystead"),
        ("Restart", "on-failure"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("MemoryDenyWriteExecute", "yes"),
        ("SystemCallFilter", "@system-service"),
        ("UMask", "0077"),
    ] {
        assert!(setting(name).contains(&value), "{name}={value} missing from the unit");
    }
    assert!(setting("RestrictAddressFamilies").iter().any(|v| v.contains("AF_INET")));
}

#[test]
fn tasks_max_leaves_a_thread_for_every_connection() {
    let tasks: usize = setting("TasksMax").last().expect("TasksMax").parse().expect("a number");
    let connections: usize = setting("Environment")
        .iter()
        .find_map(|v| v.strip_prefix("KEYSTEAD_MAX_CONNECTIONS="))
        .expect("the unit sets KEYSTEAD_MAX_CONNECTIONS")
        .parse()
        .expect("a number");
    // Workers (default 4), the accept, mail and hashing threads, and some slack.
    assert!(tasks >= connections + 32, "TasksMax={tasks} leaves too few threads above {connections} connections");
}

#[test]
fn the_settings_file_names_only_variables_keystead_reads() {
    let help = Command::new(BIN).args(["serve", "--help"]).output().expect("serve --help");
    let help = String::from_utf8_lossy(&help.stdout);
    let named: Vec<&str> = ENV_EXAMPLE
        .lines()
        .map(|l| l.trim_start_matches('#'))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        .filter(|k| k.starts_with("KEYSTEAD_"))
        .collect();
    assert!(named.len() >= 5, "{named:?}");
    for var in named {
        assert!(help.contains(&format!("env: {var}")), "`keystead serve` reads no {var}");
    }
}

#[test]
fn the_image_builds_as_the_project_does_and_runs_unprivileged() {
    let dockerfile = include_str!("../../Dockerfile");
    let bench = include_str!("../../bench/lib.sh");
    let compose = include_str!("../../deploy/compose.yaml");
    assert!(dockerfile.contains("cargo build --release --locked") && bench.contains("cargo build --release --locked"));
    assert!(dockerfile.lines().any(|l| l == "USER keystead"), "the final stage is not root");
    assert!(dockerfile.contains("HEALTHCHECK") && dockerfile.contains("/healthz"));
    assert!(dockerfile.contains("VOLUME /data") && dockerfile.contains("KEYSTEAD_DB=/data/keystead.db"));
    // Litestream reads the 0600 database as the image's user.
    assert!(dockerfile.contains("--uid 10001") && compose.contains("user: \"10001:10001\""));
}
