//! Just enough of the W3C WebDriver protocol to drive headless Chromium through
//! chromedriver: one chromedriver and one browser session per `Chrome`, both ended on drop.
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The key under which WebDriver names an element.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Chrome {
    driver: Child,
    session: String,
    base: String,
    agent: ureq::Agent,
}

impl Chrome {
    /// Starts chromedriver on a free port and a headless Chromium session with its
    /// browser console log kept. Fails (never skips) when chromedriver is missing.
    pub fn start() -> Self {
        let mut driver = Command::new("chromedriver")
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run chromedriver ({e}): ./test.sh installs Debian's chromium and chromium-driver")
            });
        let stdout = driver.stdout.take().expect("chromedriver's stdout");
        let mut lines = BufReader::new(stdout).lines();
        let port = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| l.split("started successfully on port ").nth(1).map(|p| p.trim_end_matches('.').to_owned()))
            .expect("chromedriver reports its port");
        // Keeps reading, so that chromedriver never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build();
        let base = format!("http://127.0.0.1:{port}");
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        }}});
        let mut chrome = Self { driver, session: String::new(), base, agent };
        let created = chrome.call("POST", "/session", Some(capabilities));
        chrome.session = created["sessionId"].as_str().expect("a session id").to_owned();
        chrome
    }

    /// One command; its `value`. Panics with WebDriver's error when it fails.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let req = self.agent.request(method, &url);
        let result = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        match result {
            Ok(r) => r.into_json::<Value>().expect("a JSON answer")["value"].take(),
            Err(ureq::Error::Status(status, r)) => {
                panic!("{method} {path}: {status} {}", r.into_string().unwrap_or_default())
            }
            Err(e) => panic!("{method} {path}: {e}"),
        }
    }

    fn session_call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    pub fn goto(&self, url: &str) {
        self.session_call("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn url(&self) -> String {
        self.session_call("GET", "/url", None).as_str().unwrap_or_default().to_owned()
    }

    /// The element matching `css`, waiting up to 10 s for it to appear.
    pub fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self.session_call("POST", "/elements", Some(json!({ "using": "css selector", "value": css })));
            if let Some(id) = found.get(0).and_then(|e| e[ELEMENT].as_str()) {
                return id.to_owned();
            }
            assert!(Instant::now() < deadline, "no element {css} on {}", self.url());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits up to 10 s until nothing matches `css` (a page that a form post replaces).
    pub fn wait_for_none(&self, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self.session_call("POST", "/elements", Some(json!({ "using": "css selector", "value": css })));
            if found.as_array().is_some_and(Vec::is_empty) {
                return;
            }
            assert!(Instant::now() < deadline, "still an element {css} on {}", self.url());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The elements matching `value` now, without waiting; `using` is a WebDriver locator
    /// strategy ("css selector", "xpath").
    pub fn elements_now(&self, using: &str, value: &str) -> Vec<String> {
        let found = self.session_call("POST", "/elements", Some(json!({ "using": using, "value": value })));
        found.as_array().into_iter().flatten().filter_map(|e| e[ELEMENT].as_str().map(str::to_owned)).collect()
    }

    /// Clicks an element found by `elements_now`.
    pub fn click_element(&self, id: &str) {
        self.session_call("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.session_call("POST", &format!("/element/{id}/clear"), Some(json!({})));
        self.session_call("POST", &format!("/element/{id}/value"), Some(json!({ "text": text })));
    }

    pub fn click(&self, css: &str) {
        let id = self.find(css);
        self.session_call("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    pub fn text(&self, css: &str) -> String {
        let id = self.find(css);
        self.session_call("GET", &format!("/element/{id}/text"), None).as_str().unwrap_or_default().to_owned()
    }

    /// Waits up to 10 s for the URL to end with `suffix`.
    pub fn wait_for_url(&self, suffix: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.url().ends_with(suffix) {
            assert!(Instant::now() < deadline, "still at {} instead of …{suffix}", self.url());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs a script in the page (through the DevTools protocol, which the page's CSP does not govern).
    pub fn script(&self, source: &str) -> Value {
        self.session_call("POST", "/execute/sync", Some(json!({ "script": source, "args": [] })))
    }

    /// Sets the viewport (`window.innerWidth`) to `width` CSS pixels: the window is sized
    /// once, then again by the frame Chrome puts around the page (none when headless).
    pub fn set_viewport_width(&self, width: i64) {
        let inner = || self.script("return window.innerWidth").as_i64().expect("a width");
        self.session_call("POST", "/window/rect", Some(json!({ "width": width, "height": 800 })));
        let frame = width - inner();
        if frame != 0 {
            self.session_call("POST", "/window/rect", Some(json!({ "width": width + frame, "height": 800 })));
        }
        assert_eq!(inner(), width, "the viewport is {width} px wide");
    }

    /// Makes the page see `prefers-color-scheme: dark` (or light), through the DevTools
    /// protocol as chromedriver passes it on.
    pub fn prefer_color_scheme(&self, scheme: &str) {
        let features = json!([{ "name": "prefers-color-scheme", "value": scheme }]);
        let command = json!({ "cmd": "Emulation.setEmulatedMedia", "params": { "features": features } });
        self.session_call("POST", "/goog/cdp/execute", Some(command));
    }

    /// Gives the browser a virtual authenticator (WebDriver's WebAuthn extension): a
    /// platform one that keeps resident keys, verifies its user and consents at once.
    /// Its id.
    pub fn add_virtual_authenticator(&self) -> String {
        let options = json!({
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
            "hasUserVerification": true, "isUserConsenting": true, "isUserVerified": true,
        });
        let id = self.session_call("POST", "/webauthn/authenticator", Some(options));
        id.as_str().expect("an authenticator id").to_owned()
    }

    /// The credentials the virtual authenticator holds.
    pub fn credentials(&self, authenticator: &str) -> Vec<Value> {
        match self.session_call("GET", &format!("/webauthn/authenticator/{authenticator}/credentials"), None) {
            Value::Array(all) => all,
            other => panic!("unexpected credentials answer {other}"),
        }
    }

    /// The browser console's entries since the last call (chromedriver's log endpoint).
    fn console(&self) -> Vec<Value> {
        match self.session_call("POST", "/se/log", Some(json!({ "type": "browser" }))) {
            Value::Array(entries) => entries,
            other => panic!("unexpected log answer {other}"),
        }
    }

    /// Fails on any error in the browser's console since the last look, and on any
    /// Content-Security-Policy complaint (an inline script or style would make one).
    pub fn assert_quiet_console(&self) {
        let complaints: Vec<_> = self
            .console()
            .into_iter()
            .filter(|e| {
                e["level"] == "SEVERE" || e["message"].as_str().is_some_and(|m| m.contains("Content Security Policy"))
            })
            .collect();
        assert!(complaints.is_empty(), "console errors: {complaints:?}");
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.agent.delete(&format!("{}/session/{}", self.base, self.session)).call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
