//! Records the commit the binary is built from, for `keystead --version`: from
//! `KEYSTEAD_COMMIT` when set (a build without the repository, such as an image built
//! from a tarball), else from git, else "unknown".
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

// The variable it sets does not start with KEYSTEAD_: cargo passes it to `cargo test` runs,
// where it would read as a setting.
fn main() {
    println!("cargo:rerun-if-env-changed=KEYSTEAD_COMMIT");
    let commit = std::env::var("KEYSTEAD_COMMIT").ok().filter(|c| !c.trim().is_empty());
    let commit = commit.or_else(|| git(&["rev-parse", "--short=12", "HEAD"])).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=BUILT_FROM_COMMIT={commit}");
    // Built again when HEAD moves: its file, the branch it names, and packed refs. Only
    // files that exist are named (cargo reruns a script whose named file is missing every time).
    let mut watched = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    watched.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    for name in watched {
        if let Some(path) = git(&["rev-parse", "--git-path", &name]).filter(|p| std::path::Path::new(p).exists()) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
