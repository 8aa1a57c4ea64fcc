//! Built-in TLS through the real binary: certificates made by the `openssl` command, the
//! client is `curl` (neither is Keystead's code; test.sh installs both).
use std::io::Write as _;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::binary::{Served, free_port, keystead, serve_flags, tmp_db};

/// A self-signed certificate for 127.0.0.1 whose subject is `CN=<name>`, written over
/// `cert.pem` and `key.pem` in `dir` (a renewal replaces both files).
fn make_certificate(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args(["-subj", &format!("/CN={name}"), "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs (test.sh installs it)");
    assert!(made.success(), "openssl made no certificate");
    (cert, key)
}

/// `curl` of `https://127.0.0.1:port/path` trusting `ca`: the status, the response head,
/// and the subject of the certificate the server showed (None when no answer came).
fn curl(ca: &Path, port: u16, path: &str) -> Option<(u16, String, String)> {
    let out = Command::new("curl")
        .args(["-sS", "-v", "--max-time", "5", "-D", "-", "-o", "/dev/null", "--cacert"])
        .arg(ca)
        .arg(format!("https://127.0.0.1:{port}{path}"))
        .output()
        .expect("curl runs (test.sh installs it)");
    if !out.status.success() {
        return None;
    }
    let head = String::from_utf8_lossy(&out.stdout).into_owned();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let verbose = String::from_utf8_lossy(&out.stderr).into_owned();
    let subject = verbose.lines().find_map(|l| l.trim_start_matches(['*', ' ']).strip_prefix("subject: "))?;
    Some((status, head, subject.trim().to_owned()))
}

fn serve_tls(db: &Path, port: u16, cert: &Path, key: &Path) -> Served {
    let mut cmd = serve_flags(db, port);
    cmd.arg("--tls-cert").arg(cert).arg("--tls-key").arg(key);
    let served = Served::spawn(cmd, port, Stdio::null());
    let ca = cert.with_file_name("ca.pem");
    std::fs::copy(cert, &ca).expect("copy the certificate");
    let deadline = Instant::now() + Duration::from_secs(15);
    while curl(&ca, port, "/healthz").is_none() {
        assert!(Instant::now() < deadline, "keystead serve did not answer over HTTPS");
        std::thread::sleep(Duration::from_millis(100));
    }
    served
}

#[test]
fn serves_https_with_hsts_and_takes_a_renewed_certificate_on_sighup() {
    let dir = tempfile::tempdir().expect("tmp");
    let (db, port) = (tmp_db(&dir), free_port());
    let (cert, key) = make_certificate(dir.path(), "first");
    let served = serve_tls(&db, port, &cert, &key);

    let (status, head, subject) = curl(&cert, port, "/healthz").expect("an HTTPS answer");
    assert_eq!((status, subject.as_str()), (200, "CN=first"));
    let head = head.to_ascii_lowercase();
    assert!(head.contains("strict-transport-security: max-age=31536000"), "HSTS on HTTPS:\n{head}");
    // The base URL defaults to https://<bind>: it is the issuer the discovery names.
    let (status, ..) = curl(&cert, port, "/.well-known/jwks.json").expect("an answer");
    assert_eq!(status, 200);

    let (cert, _) = make_certificate(dir.path(), "renewed");
    // Until the signal, the certificate in memory is the one served.
    assert!(curl(&cert, port, "/healthz").is_none(), "the renewed certificate is not served before SIGHUP");
    served.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some((200, _, subject)) = curl(&cert, port, "/healthz") {
            assert_eq!(subject, "CN=renewed");
            break;
        }
        assert!(Instant::now() < deadline, "SIGHUP did not bring the renewed certificate");
        std::thread::sleep(Duration::from_millis(50));
    }

    // A reload that fails keeps what works, and says why without the key's content.
    std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n")
        .expect("spoil the key");
    served.signal("HUP");
    std::thread::sleep(Duration::from_millis(300));
    let (status, _, subject) = curl(&cert, port, "/healthz").expect("still answering");
    assert_eq!((status, subject.as_str()), (200, "CN=renewed"));
    let (exit, stderr) = served.terminate();
    assert!(exit.success(), "exit {exit:?}; stderr:\n{stderr}");
    assert!(stderr.contains("the certificate in use stays"), "the failed reload is logged:\n{stderr}");
    assert!(!stderr.contains("c2VjcmV0"), "no key material in the log:\n{stderr}");
}

#[test]
fn clients_that_never_finish_their_handshake_stall_nobody() {
    let dir = tempfile::tempdir().expect("tmp");
    let (db, port) = (tmp_db(&dir), free_port());
    let (cert, key) = make_certificate(dir.path(), "stall");
    let served = serve_tls(&db, port, &cert, &key);
    // Silent connections, and ones that send the start of a ClientHello and stop.
    let mut stalled: Vec<TcpStream> =
        (0..6).map(|_| TcpStream::connect(("127.0.0.1", port)).expect("connect")).collect();
    for s in stalled.iter_mut().take(3) {
        s.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]).expect("half a hello");
    }
    let started = Instant::now();
    for _ in 0..3 {
        let (status, ..) = curl(&cert, port, "/healthz").expect("answered beside the stalled handshakes");
        assert_eq!(status, 200);
    }
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    drop(stalled);
    let (exit, stderr) = served.terminate();
    assert!(exit.success(), "exit {exit:?}; stderr:\n{stderr}");
}

#[test]
fn bad_tls_settings_stop_the_start_with_a_plain_reason() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = tmp_db(&dir);
    let (cert, key) = make_certificate(dir.path(), "one");
    let other = tempfile::tempdir().expect("tmp");
    let (_, other_key) = make_certificate(other.path(), "two");
    let db = db.to_str().expect("utf-8");
    let (cert, key, other_key) =
        (cert.to_str().expect("utf-8"), key.to_str().expect("utf-8"), other_key.to_str().expect("utf-8"));
    let missing = dir.path().join("nope.pem");
    let missing = missing.to_str().expect("utf-8");
    let cases: [(&[&str], &str); 5] = [
        (&["--tls-cert", cert], "--tls-key"),
        (&["--tls-cert", cert, "--tls-key", key, "--base-url", "http://127.0.0.1:1"], "needs an https:// --base-url"),
        (&["--tls-cert", cert, "--tls-key", other_key], "does not fit the certificate"),
        (&["--tls-cert", missing, "--tls-key", key], "cannot read"),
        (&["--tls-cert", key, "--tls-key", key], "holds no CERTIFICATE"),
    ];
    for (flags, reason) in cases {
        let mut args = vec!["serve", "--db", db, "--bind", "127.0.0.1:0"];
        args.extend_from_slice(flags);
        let out = keystead(&args).stdin(Stdio::null()).output().expect("keystead runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{flags:?} started");
        assert!(stderr.contains(reason), "{flags:?}: {stderr}");
        assert!(!stderr.contains("BEGIN"), "{flags:?} showed a file's content: {stderr}");
    }
    // `keystead check` reads them as `serve` would.
    for (tls_key, line) in [(key, "ok    tls"), (other_key, "FAIL  tls")] {
        let out =
            keystead(&["check", "--db", db, "--tls-cert", cert, "--tls-key", tls_key]).output().expect("check runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains(line), "{stdout}");
        assert!(!out.status.success(), "no database yet, so never all well: {stdout}");
    }
}
