//! The process's log on standard error: env_logger's text lines, or with `--log-format
//! json` one JSON object a line (`time`, `level`, `target`, `message`, and the fields a
//! line carries: the request log's `request_id`, `method`, `route`, `status`,
//! `duration_ms`, `tenant_id`). What is logged is chosen where it is logged: never a
//! secret, a body or a raw URL.
use std::io::Write as _;

use log::kv::{self, VisitSource};
use serde_json::{Map, Value};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Starts the log at `RUST_LOG`'s level (info when unset).
pub fn init(format: LogFormat) {
    let mut builder = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    if format == LogFormat::Json {
        builder.format(|out, record| writeln!(out, "{}", json_line(record)));
    }
    builder.init();
}

fn json_line(record: &log::Record<'_>) -> Value {
    let time = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339);
    let mut line = Map::new();
    line.insert("time".into(), time.map_or(Value::Null, Value::String));
    line.insert("level".into(), record.level().as_str().to_ascii_lowercase().into());
    line.insert("target".into(), record.target().into());
    line.insert("message".into(), record.args().to_string().into());
    let _ = record.key_values().visit(&mut Fields(&mut line));
    Value::Object(line)
}

struct Fields<'a>(&'a mut Map<String, Value>);

impl<'kvs> VisitSource<'kvs> for Fields<'_> {
    fn visit_pair(&mut self, key: kv::Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        self.0.insert(key.as_str().to_owned(), serde_json::to_value(value).unwrap_or(Value::Null));
        Ok(())
    }
}
