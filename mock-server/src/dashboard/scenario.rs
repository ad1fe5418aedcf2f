//! The scenario page: what is served and how it is steered. Options, integrations with their
//! grants and networks (skeys masked, revealed one at a time on request), fault rules, churn and
//! changes with their counters, rate-limit buckets, the clock; and the buttons: reset, set the
//! clock, load another bundled scenario (the scenario files beside the one served at start). The
//! buttons do what the control API's routes do, through the same code.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bytes::Bytes;
use serde_json::json;

use super::{BASE, Nav, esc, form, layout, see_other, why};
use crate::scenario::Scenario;
use crate::state::AppState;

/// The scenario files that may be loaded from the page: `*.toml` in the folder of the scenario
/// served at start and in the folders inside it (`scenarios/` and `scenarios/catalogue/` when it
/// is a bundled one), by their names relative to that folder. Only these load: a name is looked
/// up here, never joined to a path.
#[derive(Debug, Default)]
pub(super) struct Bundled {
    files: Vec<(String, PathBuf)>,
}

impl Bundled {
    pub(super) fn beside(dir: &Path) -> Self {
        let mut files = Vec::new();
        let toml_files = |dir: &Path| -> Vec<PathBuf> {
            std::fs::read_dir(dir)
                .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default()
        };
        for path in toml_files(dir) {
            if path.is_dir() {
                for inner in toml_files(&path) {
                    if inner.extension().is_some_and(|e| e == "toml") {
                        files.push(inner);
                    }
                }
            } else if path.extension().is_some_and(|e| e == "toml") {
                files.push(path);
            }
        }
        let mut named: Vec<(String, PathBuf)> = files
            .into_iter()
            .filter_map(|path| {
                let name = path.strip_prefix(dir).ok()?.to_str()?.to_owned();
                Some((name, path))
            })
            .collect();
        named.sort();
        Self { files: named }
    }

    fn path(&self, name: &str) -> Option<&Path> {
        self.files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.as_path())
    }
}

fn section(html: &mut String, title: &str) {
    let _ = writeln!(html, "<section><h2>{title}</h2>");
}

/// `GET /dashboard/scenario`.
pub(super) async fn page(
    State(state): State<AppState>,
    Extension(bundled): Extension<Arc<Bundled>>,
) -> Response {
    let world = state.world();
    let scenario = &world.scenario;
    let mut html = String::with_capacity(16 * 1024);
    let _ = writeln!(
        html,
        "<h1>Scenario</h1>\n<p class=\"meta\">Serving <code>{}</code>{}: {} users, {} administrators, {} groups. API hostname <code>{}</code>, seed {}.</p>",
        esc(&scenario.origin),
        scenario
            .description
            .as_deref()
            .map(|d| format!(" — {}", esc(d)))
            .unwrap_or_default(),
        world.tenant.users.len(),
        world.tenant.admins.len(),
        world.tenant.groups.len(),
        esc(&scenario.tenant.api_hostname),
        scenario.tenant.seed
    );

    html.push_str("<div class=\"actions\">");
    let _ = write!(
        html,
        "<form method=\"post\" action=\"{BASE}/scenario/reset\"><button id=\"reset\" type=\"submit\">Reset</button> <small>rebuild the tenant; faults, churn, changes, buckets and clock start over</small></form>"
    );
    let _ = write!(
        html,
        "<form method=\"post\" action=\"{BASE}/scenario/clock\"><label>Clock offset <input id=\"clock-offset\" name=\"offset_s\" type=\"number\" value=\"{}\" step=\"1\"> s</label> <button id=\"set-clock\" type=\"submit\">Set the clock</button></form>",
        state.clock_offset()
    );
    let _ = write!(
        html,
        "<form method=\"post\" action=\"{BASE}/scenario/load\"><label>Scenario <select id=\"scenario-name\" name=\"name\">"
    );
    for (name, _) in &bundled.files {
        let _ = write!(html, "<option value=\"{0}\">{0}</option>", esc(name));
    }
    let _ = write!(
        html,
        "</select></label> <button id=\"load\" type=\"submit\">Load</button></form></div>\n<p class=\"meta\" id=\"clock\">The fake's clock: {} ({:+} s from the machine's).</p>\n",
        duo_auth::date::format_date(state.now()),
        state.clock_offset()
    );

    section(&mut html, "Integrations");
    html.push_str("<table><thead><tr><th>Name</th><th>ikey</th><th>skey</th><th>Kind</th><th>Grants</th><th>Networks</th></tr></thead><tbody>\n");
    for integration in &scenario.integrations {
        let networks: Vec<String> = integration.networks.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            html,
            "<tr><td>{name}</td><td><code>{}</code></td><td><code class=\"skey\">••••••••</code> <button type=\"button\" data-reveal=\"{name}\" data-url=\"{BASE}/api/skey\">Reveal</button></td><td>{:?}</td><td>{}</td><td>{}</td></tr>",
            esc(&integration.ikey),
            integration.kind,
            integration.grants.names().join(", "),
            if networks.is_empty() {
                "anywhere".to_owned()
            } else {
                networks.join(", ")
            },
            name = esc(&integration.name),
        );
    }
    html.push_str("</tbody></table></section>\n");

    section(&mut html, "Fault rules");
    let counts = world.faults.counts();
    if counts.is_empty() {
        html.push_str("<p class=\"empty\">None: every request is answered as Duo would.</p>\n");
    } else {
        html.push_str("<table><thead><tr><th>Rule</th><th>Applies to</th><th>Answers with</th><th>Matched</th><th>Answered</th></tr></thead><tbody>\n");
        for count in &counts {
            let filters: Vec<String> = why::filters(count)
                .into_iter()
                .map(|(k, v)| format!("{k} = {}", esc(&v)))
                .collect();
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(count.name),
                filters.join("<br>"),
                esc(&why::action(count)),
                count.calls_seen,
                count.fired
            );
        }
        html.push_str("</tbody></table>\n");
    }
    html.push_str("</section>\n");

    section(&mut html, "Churn");
    let (events, list_requests) = world.churn.progress();
    if events.is_empty() {
        html.push_str("<p class=\"empty\">None: the tenant changes only by writes.</p>\n");
    } else {
        let _ = writeln!(
            html,
            "<p class=\"meta\">{list_requests} successful list requests counted.</p><table><thead><tr><th>Event</th><th>When</th><th>Changes</th><th>Applied</th></tr></thead><tbody>"
        );
        for (event, applied) in events {
            let when = match (event.after_list_requests, event.at_s) {
                (Some(n), _) => format!("after {n} list requests"),
                (None, Some(s)) => format!("{s} s after start"),
                (None, None) => String::new(),
            };
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td>{when}</td><td>delete {}, create {}, rename {}, move {} users</td><td>{}</td></tr>",
                esc(event.name.as_deref().unwrap_or("churn")),
                event.delete_users,
                event.create_users,
                event.rename_users,
                event.move_users,
                if applied { "yes" } else { "not yet" }
            );
        }
        html.push_str("</tbody></table>\n");
    }
    html.push_str("</section>\n");

    section(&mut html, "Changes");
    let (changes, list_requests) = world.changes.progress();
    if changes.is_empty() {
        html.push_str("<p class=\"empty\">None: every integration keeps its grants.</p>\n");
    } else {
        let _ = writeln!(
            html,
            "<p class=\"meta\">{list_requests} successful list requests counted.</p><table><thead><tr><th>Change</th><th>What, and when</th><th>Applied</th></tr></thead><tbody>"
        );
        for progress in changes {
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(progress.name),
                esc(&progress.change.describe()),
                if progress.applied { "yes" } else { "not yet" }
            );
        }
        html.push_str("</tbody></table>\n");
    }
    html.push_str("</section>\n");

    section(&mut html, "Rate limits");
    match world.rate_limiter.limits() {
        None => html.push_str("<p class=\"empty\">None: no request is refused with 429 for its rate.</p>\n"),
        Some(limits) => {
            let _ = writeln!(html, "<pre class=\"json\">{}</pre>", esc(&format!("{limits:#?}")));
            let buckets = world.rate_limiter.buckets();
            if buckets.is_empty() {
                html.push_str("<p class=\"empty\">No bucket used yet.</p>\n");
            } else {
                html.push_str("<table><thead><tr><th>Budget of</th><th>Class</th><th>Calls left</th><th>Per minute</th></tr></thead><tbody>\n");
                for bucket in buckets {
                    let _ = writeln!(
                        html,
                        "<tr><td>{}</td><td>{:?}</td><td class=\"num\">{:.1} of {:.0}</td><td class=\"num\">{}</td></tr>",
                        esc(if bucket.owner.is_empty() {
                            "the account"
                        } else {
                            &bucket.owner
                        }),
                        bucket.class,
                        bucket.tokens,
                        bucket.capacity,
                        bucket.per_minute
                    );
                }
                html.push_str("</tbody></table>\n");
            }
        }
    }
    html.push_str("</section>\n");

    section(&mut html, "Options");
    let _ = writeln!(
        html,
        "<pre class=\"json\">{}</pre></section>",
        esc(&format!("{:#?}", scenario.options))
    );
    layout("Scenario", Nav::Scenario, &html).into_response()
}

/// Where a button's form goes back to: the scenario page, or the error in words.
fn back(outcome: Response) -> Response {
    if outcome.status().is_success() {
        see_other(&format!("{BASE}/scenario"))
    } else {
        outcome
    }
}

/// `POST /dashboard/scenario/reset`: as `POST /__duo-mock/reset`.
pub(super) async fn reset(State(state): State<AppState>) -> Response {
    let scenario = state.world().scenario.clone();
    back(crate::control::rebuild(&state, scenario).await)
}

/// `POST /dashboard/scenario/clock` with `offset_s=N`: as `PUT /__duo-mock/clock`.
pub(super) async fn set_clock(State(state): State<AppState>, body: Bytes) -> Response {
    let offset = form(&body)
        .into_iter()
        .find(|(k, _)| k == "offset_s")
        .and_then(|(_, v)| v.trim().parse::<i64>().ok());
    match offset {
        Some(seconds) => {
            state.set_clock_offset(seconds);
            back(StatusCode::OK.into_response())
        }
        None => (
            StatusCode::BAD_REQUEST,
            "offset_s must be a whole number of seconds\n",
        )
            .into_response(),
    }
}

/// `POST /dashboard/scenario/load` with `name=…`: one of the bundled files, as `POST
/// /__duo-mock/load` would serve its text.
pub(super) async fn load(
    State(state): State<AppState>,
    Extension(bundled): Extension<Arc<Bundled>>,
    body: Bytes,
) -> Response {
    let name = form(&body)
        .into_iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v)
        .unwrap_or_default();
    let Some(path) = bundled.path(&name).map(Path::to_path_buf) else {
        return (StatusCode::BAD_REQUEST, format!("no bundled scenario {name:?}\n")).into_response();
    };
    match tokio::task::spawn_blocking(move || Scenario::load(&path)).await {
        Ok(Ok(scenario)) => back(crate::control::rebuild(&state, scenario).await),
        Ok(Err(error)) => (StatusCode::BAD_REQUEST, format!("{error}\n")).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
    }
}

/// `POST /dashboard/api/skey` with `integration=NAME`: `{"skey": …}`, the key the fake verifies
/// with (a POST: it needs the page's own origin, like every change).
pub(super) async fn reveal_skey(State(state): State<AppState>, body: Bytes) -> Response {
    let name = form(&body)
        .into_iter()
        .find(|(k, _)| k == "integration")
        .map(|(_, v)| v)
        .unwrap_or_default();
    let world = state.world();
    match world.scenario.integrations.iter().find(|i| i.name == name) {
        Some(integration) => Json(json!({ "skey": integration.skey })).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "no such integration" })),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_scenarios_are_found_beside_the_served_one_and_in_folders_inside() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let bundled = Bundled::beside(&dir);
        let names: Vec<&str> = bundled.files.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"default.toml"), "{names:?}");
        assert!(
            names.contains(&"catalogue/d09-rate-limit-burst.toml"),
            "{names:?}"
        );
        assert!(names.iter().all(|n| n.ends_with(".toml")));
        assert!(bundled.path("default.toml").is_some());
        assert!(bundled.path("../Cargo.toml").is_none());
    }
}
