//! `duo-mock scenario from-bundle`: a connector's support bundle (`connector/SUPPORT-BUNDLE.md`)
//! turned into a scenario that makes the same connector fail the same way.
//!
//! What is reproduced, from what the bundle shows:
//! - keys refused everywhere (40102, 40103): an integration of another type, a wrong key handed
//!   out; a clock that is off: `clock_offset_s` from Duo's `Date` against the local clock;
//! - 403 40301: the grant of the refused endpoints removed (the grants `check` found, when the
//!   bundle has them), or a rule on the path when other endpoints of that grant answered;
//! - every other refusal, error, intermediary page, malformed answer, cut connection and timeout:
//!   a `[[faults]]` rule on the same path and calls ([`crate::reproduce`]), with the built-in
//!   intermediary profile whose status, `Server` and title match, else the same status and
//!   headers;
//! - a TLS failure: the certificate fault its reason or chain points to; a proxy's refused
//!   tunnel: `[proxy]` refusing the same way;
//! - sizes: enough users, admins and groups for the same pages to be asked.
//!
//! The bundle is read as its schema documents it, by this crate's own types: the fake does not
//! depend on the connector.

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::grants::Grant;
use crate::reproduce::{self, Exchange, Page, PageShape, Seen};
use crate::scenario_writer::ScenarioWriter;

/// The newest bundle format this reads.
pub const SCHEMA_VERSION: u32 = 1;

/// The integration key of the scenarios made here (a test key, like every scenario's).
pub const IKEY: &str = "DIB0ND1EREPR0DUCT10N";
/// Its secret key (a test key: it opens nothing but this fake).
const SKEY: &str = "repr0duc3dFr0mAsupp0rtBundleN0tAr3alK3y1";
/// What a client is handed instead, when the bundle shows a wrong secret key (40103).
const WRONG_SKEY: &str = "repr0duc3dFr0mAsupp0rtBundleN0tAr3alK3y2";

/// A bundle, as much of it as a scenario needs.
#[derive(Debug, Deserialize)]
struct Bundle {
    schema_version: u32,
    #[serde(default)]
    tool: Option<String>,
    #[serde(default)]
    connector_version: Option<String>,
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    api_host: Option<String>,
    #[serde(default)]
    transport: Option<String>,
    #[serde(default)]
    proxy: Option<Proxy>,
    outcome: Outcome,
    #[serde(default)]
    clock: Option<Clock>,
    #[serde(default)]
    tls: Option<Tls>,
    #[serde(default)]
    grants: Option<Vec<GrantFound>>,
    #[serde(default)]
    requests: Vec<Request>,
}

#[derive(Debug, Deserialize)]
struct Proxy {
    #[serde(default)]
    with_credentials: bool,
}

#[derive(Debug, Deserialize, Default)]
struct Outcome {
    #[serde(default)]
    ok: bool,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    http_status: Option<u16>,
    #[serde(default)]
    duo_code: Option<u32>,
}

#[derive(Debug, Deserialize)]
struct Clock {
    duo_minus_local_s: i64,
}

#[derive(Debug, Deserialize, Default)]
struct Tls {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    chain: Vec<Certificate>,
}

#[derive(Debug, Deserialize)]
struct Certificate {
    #[serde(default)]
    not_after: String,
    #[serde(default)]
    names: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct GrantFound {
    grant: String,
    state: String,
}

#[derive(Debug, Deserialize, Clone, Default)]
struct Request {
    path: String,
    #[serde(default)]
    offset: Option<u64>,
    #[serde(default)]
    signed: bool,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    server: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    retry_after: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    duo_code: Option<u32>,
    #[serde(default)]
    duo_message: Option<String>,
    #[serde(default)]
    html_title: Option<String>,
    #[serde(default)]
    items: Option<u64>,
    #[serde(default)]
    total_objects: Option<u64>,
    #[serde(default)]
    date_offset_s: Option<i64>,
    #[serde(default)]
    latency_ms: u64,
    #[serde(default)]
    transport: Option<Transport>,
}

#[derive(Debug, Deserialize, Clone, Default)]
struct Transport {
    failure: String,
    #[serde(default)]
    status_before_cut: Option<u16>,
    #[serde(default)]
    reset: bool,
    #[serde(default)]
    tls_error: Option<String>,
    #[serde(default)]
    proxy_status: Option<u16>,
}

fn bundle_error(message: impl Into<String>) -> Error {
    Error::Bundle(message.into())
}

/// The scenario (TOML text) that reproduces the bundle `json`; `origin` names the bundle in
/// messages.
pub fn scenario_from_bundle(json: &str, origin: &str) -> Result<String> {
    let bundle: Bundle = serde_json::from_str(json).map_err(|e| {
        bundle_error(format!(
            "{origin}: not a support bundle (connector/SUPPORT-BUNDLE.md): {e}"
        ))
    })?;
    if bundle.schema_version == 0 || bundle.schema_version > SCHEMA_VERSION {
        return Err(bundle_error(format!(
            "{origin}: schema_version {} is not one this duo-mock reads (1 to {SCHEMA_VERSION}); use a newer duo-mock",
            bundle.schema_version
        )));
    }
    Plan::of(&bundle).write(&bundle, origin)
}

/// What the scenario will say, decided from the bundle before anything is written.
#[derive(Debug, Default)]
struct Plan {
    grants: Vec<Grant>,
    removed_grants: Vec<(Grant, String)>,
    kind: Option<&'static str>,
    wrong_key: bool,
    clock_offset_s: Option<i64>,
    window_s: Option<i64>,
    tls: bool,
    certificate: Option<(&'static str, String)>,
    proxy_refuse: Option<u16>,
    proxy_credentials: bool,
    exchanges: Vec<Exchange>,
    failed_at: Option<String>,
    users: u64,
    admins: u64,
    groups: u64,
    notes: Vec<String>,
}

/// The grant an endpoint needs, as the fake's routes require it.
fn grant_of(path: &str) -> Option<Grant> {
    if path.starts_with("/admin/v1/admins") {
        Some(Grant::Administrators)
    } else if path.starts_with("/admin/v1/info") {
        Some(Grant::ReadInformation)
    } else if path.starts_with("/admin/v1/settings") {
        Some(Grant::Settings)
    } else if path.contains("/logs") {
        Some(Grant::ReadLog)
    } else if path.starts_with("/admin/") {
        Some(Grant::ReadResource)
    } else {
        None
    }
}

const READ_GRANTS: [Grant; 4] = [
    Grant::ReadResource,
    Grant::Administrators,
    Grant::ReadInformation,
    Grant::Settings,
];

impl Plan {
    fn of(bundle: &Bundle) -> Self {
        let mut plan = Self {
            grants: READ_GRANTS.to_vec(),
            tls: bundle.transport.as_deref() != Some("plain-http"),
            failed_at: bundle
                .outcome
                .endpoint
                .as_deref()
                .filter(|_| !bundle.outcome.ok)
                .map(reproduce::path_pattern),
            ..Self::default()
        };
        let requests = &bundle.requests;
        // Answers that reached Duo's signature check: the keys and the clock are judged on them.
        let signed: Vec<&Request> = requests
            .iter()
            .filter(|r| r.signed && r.transport.is_none())
            .collect();
        let everywhere = |code: u32| !signed.is_empty() && signed.iter().all(|r| r.duo_code == Some(code));
        if everywhere(40102) {
            plan.kind = Some("auth-api");
        }
        if everywhere(40103) {
            plan.wrong_key = true;
        }
        let skew = everywhere(40105);
        let offset = bundle
            .clock
            .as_ref()
            .map(|c| c.duo_minus_local_s)
            .or_else(|| requests.iter().rev().find_map(|r| r.date_offset_s));
        if let Some(offset) = offset.filter(|o| o.abs() > 1) {
            plan.clock_offset_s = Some(offset);
            if skew && offset.abs() <= 300 {
                // Refused inside the fake's default window: this Duo's is narrower.
                plan.window_s = Some((offset.abs() / 2).max(1));
            }
        }
        plan.decide_grants(bundle);
        plan.decide_transport(bundle);
        plan.exchanges = requests
            .iter()
            .enumerate()
            .map(|(i, r)| plan.exchange(i, r, skew))
            .collect();
        plan.size_lists(requests);
        plan
    }

    /// Grants to remove: those `check` found off, or those every endpoint of which was refused
    /// with 40301 (a grant with an endpoint that answered keeps it, and the refusal is a rule).
    fn decide_grants(&mut self, bundle: &Bundle) {
        let mut off: Vec<(Grant, String)> = Vec::new();
        if let Some(found) = &bundle.grants {
            for g in found.iter().filter(|g| g.state == "off") {
                if let Some(grant) = Grant::from_name(&g.grant) {
                    off.push((grant, "check found it off".into()));
                }
            }
        }
        for grant in READ_GRANTS {
            let answered: Vec<&Request> = bundle
                .requests
                .iter()
                .filter(|r| r.signed && r.status.is_some() && grant_of(&r.path) == Some(grant))
                .collect();
            let refused = !answered.is_empty() && answered.iter().all(|r| r.duo_code == Some(40301));
            if refused && !off.iter().any(|(g, _)| *g == grant) {
                off.push((
                    grant,
                    format!(
                        "every request needing it was refused 403 40301 ({})",
                        answered[0].path
                    ),
                ));
            }
        }
        self.grants.retain(|g| !off.iter().any(|(o, _)| o == g));
        self.removed_grants = off;
    }

    fn decide_transport(&mut self, bundle: &Bundle) {
        let failures: Vec<&Transport> = bundle
            .requests
            .iter()
            .filter_map(|r| r.transport.as_ref())
            .collect();
        if let Some(tunnel) = failures.iter().find(|t| t.failure == "proxy_tunnel") {
            self.proxy_refuse = Some(if tunnel.proxy_status == Some(407) {
                407
            } else {
                403
            });
            self.tls = true;
        } else if bundle.proxy.is_some() {
            self.proxy_credentials = bundle.proxy.as_ref().is_some_and(|p| p.with_credentials);
            self.proxy_refuse = Some(0);
        }
        if failures.iter().any(|t| t.failure == "tls") {
            self.tls = true;
            let tls = bundle.tls.as_ref();
            let reason = tls
                .and_then(|t| t.error.clone())
                .or_else(|| failures.iter().find_map(|t| t.tls_error.clone()))
                .unwrap_or_default();
            let reason_lower = reason.to_ascii_lowercase().replace(' ', "");
            let leaf = tls.and_then(|t| t.chain.first());
            let host = bundle.api_host.as_deref().map(|h| {
                h.rsplit_once(':')
                    .map_or(h, |(name, _)| name)
                    .to_ascii_lowercase()
            });
            let created = bundle.created_at.clone().unwrap_or_default();
            let fault = if reason_lower.contains("expired") {
                ("expired", format!("the TLS library said {reason:?}"))
            } else if reason_lower.contains("notvalidforname") {
                ("wrong-host", format!("the TLS library said {reason:?}"))
            } else if reason_lower.contains("unknownissuer") {
                ("foreign-ca", format!("the TLS library said {reason:?}"))
            } else if leaf.is_some_and(|l| !l.not_after.is_empty() && l.not_after < created) {
                (
                    "expired",
                    "the presented certificate's validity ended before the bundle was made".into(),
                )
            } else if let (Some(leaf), Some(host)) = (leaf, &host)
                && !leaf.names.iter().any(|n| n.eq_ignore_ascii_case(host))
            {
                (
                    "wrong-host",
                    format!("the presented certificate is not for {host}"),
                )
            } else {
                ("foreign-ca", "the presented chain was not trusted".into())
            };
            self.certificate = Some(fault);
        }
        for t in &failures {
            match t.failure.as_str() {
                "dns" | "refused" | "not_tls" | "tls_on_plain_http" => self.notes.push(format!(
                    "the bundle shows a {} failure, which is the client's setup or network, not an answer a fake can give",
                    t.failure
                )),
                _ => {}
            }
        }
    }

    fn exchange(&self, index: usize, request: &Request, skew: bool) -> Exchange {
        let grant_removed = grant_of(&request.path).is_some_and(|g| !self.grants.contains(&g));
        let seen = match (&request.transport, request.status) {
            (Some(t), _) => match t.failure.as_str() {
                "cut" => Seen::Cut {
                    reset: t.reset,
                    mid_body: t.status_before_cut.is_some(),
                },
                "timeout" => Seen::Timeout {
                    waited_ms: request.latency_ms,
                },
                _ => Seen::Normal,
            },
            (None, None) => Seen::Normal,
            (None, Some(status)) => match (request.body.as_deref(), request.duo_code) {
                (Some("duo_ok"), _) if status == 200 => Seen::Normal,
                (Some("duo_fail"), Some(code)) => match code {
                    40102 if self.kind.is_some() => Seen::Normal,
                    40103 if self.wrong_key => Seen::Normal,
                    40105 if skew => Seen::Normal,
                    40301 if grant_removed => Seen::Normal,
                    40104 => Seen::DateRemoved,
                    _ => Seen::Duo {
                        status,
                        code,
                        message: request.duo_message.clone(),
                        retry_after: request.retry_after.clone(),
                    },
                },
                (shape, _) => Seen::Page(Page {
                    status,
                    server: request.server.clone(),
                    content_type: request.content_type.clone(),
                    retry_after: request.retry_after.clone(),
                    shape: match shape {
                        Some("html") => PageShape::Html(request.html_title.clone()),
                        Some("empty") => PageShape::Empty,
                        Some("stat_ok_without_response") => PageShape::StatOkWithoutResponse,
                        Some("other_stat") => PageShape::OtherStat,
                        Some("other_json" | "duo_ok" | "duo_fail") => PageShape::OtherJson,
                        _ => PageShape::NotJson,
                    },
                    body: None,
                }),
            },
        };
        Exchange {
            path: reproduce::path_pattern(&request.path),
            seen,
            note: format!("request {} ({} {})", index + 1, request.path, describe(request)),
        }
    }

    /// Enough objects for the same pages to be asked: what `total_objects` said, else what the
    /// pages held, and at least one past the furthest offset asked.
    fn size_lists(&mut self, requests: &[Request]) {
        let size = |path: &str, default: u64| {
            requests
                .iter()
                .filter(|r| r.path == path)
                .map(|r| {
                    let offset = r.offset.unwrap_or(0);
                    let seen = offset + r.items.unwrap_or(0);
                    r.total_objects.unwrap_or(0).max(seen).max(offset + 1)
                })
                .max()
                .unwrap_or(default)
                .max(default)
        };
        self.users = size("/admin/v1/users", 20);
        self.admins = size("/admin/v1/admins", 2);
        self.groups = size("/admin/v1/groups", 3);
    }

    fn write(&self, bundle: &Bundle, origin: &str) -> Result<String> {
        let mut w = ScenarioWriter::new();
        let outcome = &bundle.outcome;
        let what = if outcome.ok {
            "succeeded".to_owned()
        } else {
            let mut what = outcome.kind.clone().unwrap_or_else(|| "failed".into());
            if let Some(status) = outcome.http_status {
                what.push_str(&format!(" {status}"));
            }
            if let Some(code) = outcome.duo_code {
                what.push_str(&format!(" {code}"));
            }
            if let Some(endpoint) = &outcome.endpoint {
                what.push_str(&format!(" at {endpoint}"));
            }
            what
        };
        w.comment(&format!(
            "Made by `duo-mock scenario from-bundle` from {origin}: {} {} {} {}.",
            bundle.tool.as_deref().unwrap_or("a connector"),
            bundle.connector_version.as_deref().unwrap_or(""),
            bundle.command.as_deref().unwrap_or(""),
            what
        ));
        w.comment(
            "Serve it with --tls (or as is: [options] tls says so) and run the same connector with the",
        );
        w.comment("first integration of the ready file; it should end the same way.");
        for note in &self.notes {
            w.comment(&format!("Not reproduced: {note}."));
        }
        w.key("description", format!("Reproduces a support bundle: {what}"));
        w.table("tenant")
            .key("name", "Support case")
            .key("api_hostname", "api-00000000.duosecurity.com")
            .key("seed", 1_u64);
        w.table("generate")
            .key("users", self.users)
            .key("admins", self.admins)
            .key("groups", self.groups);

        w.array_table("integrations")
            .key("name", "customer-connector")
            .key("ikey", IKEY)
            .key("skey", SKEY);
        for (grant, why) in &self.removed_grants {
            w.comment(&format!("without {:?}: {why}", grant.name()));
        }
        w.key("grants", self.grants.iter().map(|g| g.name()).collect::<Vec<_>>());
        if let Some(kind) = self.kind {
            w.comment("every signed request was refused 401 40102: keys of another application type");
            w.key("type", kind);
        }
        if self.wrong_key {
            w.comment("every signed request was refused 401 40103: the client holds a wrong secret key");
            w.key("client_skey", WRONG_SKEY);
        }

        w.table("options").key("tls", self.tls);
        if let Some(offset) = self.clock_offset_s {
            w.comment(&format!("Duo's Date was {offset} s from the client's clock"));
            w.key("clock_offset_s", offset);
        }
        if let Some(window) = self.window_s {
            w.comment("refused 40105 at that distance: a window narrower than the fake's default");
            w.key("signature_window_s", window);
        }
        if let Some((fault, why)) = &self.certificate {
            w.comment(&format!("the TLS handshake failed: {why}"));
            w.key("tls_certificate", *fault);
        }
        match self.proxy_refuse {
            Some(0) => {
                w.comment("the connector went through a proxy");
                w.table("proxy");
                if self.proxy_credentials {
                    w.key("username", "proxy-user").key("password", "proxy-pass");
                }
            }
            Some(status) => {
                w.comment(&format!("the proxy refused the tunnel ({status})"));
                w.table("proxy").key("refuse", status);
            }
            None => {}
        }
        reproduce::write_rules(&mut w, &self.exchanges, self.failed_at.as_deref());
        w.finish(origin)
    }
}

fn describe(request: &Request) -> String {
    match (&request.transport, request.status) {
        (Some(t), _) => t.failure.clone(),
        (None, Some(status)) => match request.duo_code {
            Some(code) => format!("{status} {code}"),
            None => format!("{status} {}", request.body.as_deref().unwrap_or("")),
        },
        (None, None) => "no answer".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scenario;

    fn bundle(requests: &str, outcome: &str) -> String {
        format!(
            r#"{{"schema_version":1,"command":"sync","api_host":"localhost:1","transport":"https",
               "outcome":{outcome},"requests":[{requests}]}}"#
        )
    }

    #[test]
    fn a_newer_or_foreign_file_is_refused_with_a_reason() {
        let error = scenario_from_bundle(r#"{"schema_version":9,"outcome":{}}"#, "b.json").unwrap_err();
        assert!(error.to_string().contains("schema_version 9"), "{error}");
        let error = scenario_from_bundle("[]", "b.json").unwrap_err();
        assert!(error.to_string().contains("not a support bundle"), "{error}");
    }

    #[test]
    fn refused_keys_and_missing_grants_are_settings_not_rules() {
        let text = scenario_from_bundle(
            &bundle(
                r#"{"path":"/admin/v1/users","signed":true,"status":200,"body":"duo_ok","total_objects":40},
                   {"path":"/admin/v1/admins","signed":true,"status":403,"body":"duo_fail","duo_code":40301}"#,
                r#"{"ok":false,"kind":"permission_denied","endpoint":"/admin/v1/admins","http_status":403,"duo_code":40301}"#,
            ),
            "b.json",
        )
        .unwrap();
        let scenario = Scenario::parse(&text, "t").unwrap();
        assert!(
            !scenario.integrations[0].grants.contains(Grant::Administrators),
            "{text}"
        );
        assert!(scenario.integrations[0].grants.contains(Grant::ReadResource));
        assert!(scenario.faults.is_empty(), "{text}");
        assert_eq!(scenario.generate.users, 40);
    }
}
