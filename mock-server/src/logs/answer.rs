//! A log request answered: its parameters checked, its page walked out of the timeline, and the
//! page written as Duo's JSON (v2 with `metadata` inside `response`, v1 as a bare array, Trust
//! Monitor with its opaque offset). Also the dump of a window, for tests and tools.

use std::io::Write;
use std::ops::ControlFlow;

use super::authentication::{self, ENROLLMENT};
use super::config::{FinalCursor, LogsConfig, TotalShape, V1Ties};
use super::people::People;
use super::query::{self, CursorShape, Endpoint, Filter, Sort, Style};
use super::timeline::{Order, Scope, Stream, Tables};
use super::{Event, LogKind, Logs};
use crate::api_error::ApiError;
use crate::model::write_int;
use crate::params::Params;
use crate::state::World;

/// What rendering an event needs besides the event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    pub(crate) people: &'a People,
    pub(crate) config: &'a LogsConfig,
    pub(crate) admin_host: &'a str,
    pub(crate) akey: &'a str,
    pub(crate) tenant_name: &'a str,
}

/// Most events a v1 call returns (ties aside).
const V1_CAP: usize = 1000;
/// Default and largest page of a v2 log.
const V2_LIMITS: [usize; 2] = [100, 1000];

/// The server's now, microseconds (the fake's clock offset included).
pub fn now_us(state: &crate::state::AppState) -> i64 {
    let real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    real.saturating_add(state.clock_offset().saturating_mul(1_000_000))
}

impl Logs {
    fn context<'a>(&'a self, people: &'a People, world: &'a World) -> Context<'a> {
        Context {
            people,
            config: &self.config,
            admin_host: &self.admin_host,
            akey: &self.akey,
            tenant_name: &world.scenario.tenant.name,
        }
    }

    /// The first microsecond still kept.
    fn retained_from(&self, now_us: i64) -> i64 {
        now_us - i64::from(self.config.retention_days) * 86_400_000_000
    }

    /// Whether answering `params` at `endpoint` may take long enough to belong on a blocking
    /// thread: a filter that looks at every event of a large window.
    pub fn is_heavy(&self, world: &World, endpoint: &Endpoint, params: &Params) -> bool {
        if endpoint.kind != LogKind::Authentication {
            return false;
        }
        let filtered = [
            "users",
            "groups",
            "applications",
            "factors",
            "reasons",
            "phone_numbers",
            "tokens",
        ]
        .iter()
        .any(|k| params.has(k));
        filtered
            && self.stream(endpoint.kind).is_some_and(|stream| {
                let per_day: f64 = (0..24).map(|h| stream.per_minute(h)).sum::<f64>() * 60.0;
                per_day * f64::from(self.config.retention_days) > 200_000.0
            })
            && self.any()
            && !world.tenant.users.is_empty()
    }

    /// Answers a request for `endpoint`: the whole JSON body, or Duo's error.
    pub fn answer(
        &self,
        world: &World,
        endpoint: &Endpoint,
        params: &Params,
        now_us: i64,
    ) -> Result<Vec<u8>, ApiError> {
        let people = self.people(&world.scenario, &world.tenant);
        let context = self.context(people, world);
        let stream = self.stream(endpoint.kind);
        match endpoint.style {
            Style::V1 => {
                let mintime = query::v1_mintime(params)?;
                let events = match stream {
                    Some(stream) => self.v1_events(stream, people, mintime, now_us),
                    None => Vec::new(),
                };
                let mut out = Vec::with_capacity(events.len() * 300 + 32);
                out.extend_from_slice(b"{\"response\":[");
                self.render_all(&context, stream, endpoint.style, &events, &mut out);
                out.extend_from_slice(b"],\"stat\":\"OK\"}");
                Ok(out)
            }
            Style::V2 { list, cursor } => {
                let request = self.windowed(params, endpoint.style, now_us, V2_LIMITS)?;
                let filter = if endpoint.kind == LogKind::Authentication {
                    Filter::authentication(params, people)?
                } else {
                    Filter::default()
                };
                let (events, next, total) = match stream {
                    Some(stream) => self.v2_page(stream, people, &request, cursor, &filter, now_us),
                    None => (Vec::new(), None, 0),
                };
                let mut out = Vec::with_capacity(events.len() * 1400 + 160);
                out.extend_from_slice(b"{\"response\":{\"");
                out.extend_from_slice(list.as_bytes());
                out.extend_from_slice(b"\":[");
                self.render_all(&context, stream, endpoint.style, &events, &mut out);
                out.extend_from_slice(b"],\"metadata\":{\"next_offset\":");
                match next {
                    Some(last) => write_cursor(&last, cursor, &mut out),
                    None => out.extend_from_slice(b"null"),
                }
                out.extend_from_slice(b",\"total_objects\":");
                let shape = match endpoint.kind {
                    LogKind::Telephony => self.config.total_objects.telephony,
                    LogKind::Activity => self.config.total_objects.activity,
                    _ => self.config.total_objects.authentication,
                };
                let total = i64::try_from(total).unwrap_or(i64::MAX);
                match shape {
                    TotalShape::Int => write_int(&mut out, total),
                    TotalShape::Relation => {
                        out.extend_from_slice(b"{\"relation\":\"eq\",\"value\":");
                        write_int(&mut out, total);
                        out.push(b'}');
                    }
                }
                out.extend_from_slice(b"}},\"stat\":\"OK\"}");
                Ok(out)
            }
            Style::Offset => {
                let [default_limit, max_limit] = self.config.trust_monitor_limit;
                let request = self.windowed(
                    params,
                    endpoint.style,
                    now_us,
                    [default_limit as usize, max_limit as usize],
                )?;
                let wanted_type = match params.first("type") {
                    None => None,
                    Some(raw) => {
                        Some(std::str::from_utf8(raw).map_err(|_| ApiError::invalid_parameter("type"))?)
                    }
                };
                let mut events = Vec::new();
                let mut more = false;
                if let Some(stream) = stream {
                    let Tables::TrustMonitor(tables) = &stream.tables else {
                        return Err(ApiError::not_found());
                    };
                    let scope = self.scope(stream, people, request.mintime_ms, request.maxtime_ms, now_us);
                    let mut skipped = 0usize;
                    self.walk(&scope, Order::Ascending, None, |event| {
                        let name = tables.types.name(event.what);
                        let fits = wanted_type.is_none_or(|t| {
                            t == name || (t == "bypass_status_enabled" && name == "bypass_status")
                        });
                        if !fits {
                            return ControlFlow::Continue(());
                        }
                        if skipped < request.offset {
                            skipped += 1;
                            return ControlFlow::Continue(());
                        }
                        if events.len() == request.limit {
                            more = true;
                            return ControlFlow::Break(());
                        }
                        events.push(*event);
                        ControlFlow::Continue(())
                    });
                }
                let mut out = Vec::with_capacity(events.len() * 2000 + 96);
                out.extend_from_slice(b"{\"response\":{\"events\":[");
                self.render_all(&context, stream, endpoint.style, &events, &mut out);
                out.extend_from_slice(b"],\"metadata\":{");
                if more {
                    out.extend_from_slice(b"\"next_offset\":\"");
                    write_int(
                        &mut out,
                        i64::try_from(request.offset + events.len()).unwrap_or(i64::MAX),
                    );
                    out.push(b'"');
                }
                out.extend_from_slice(b"}},\"stat\":\"OK\"}");
                Ok(out)
            }
        }
    }

    /// The window, page and cursor of a v2 or Trust Monitor request, checked at `now_us`.
    fn windowed(
        &self,
        params: &Params,
        style: Style,
        now_us: i64,
        limits: [usize; 2],
    ) -> Result<query::Windowed, ApiError> {
        query::windowed(
            params,
            style,
            now_us.div_euclid(1000),
            self.config.retention_days,
            self.config.retention_grace_s,
            limits,
        )
    }

    /// The scope of a millisecond window at `now_us`: within the retention, nothing after now.
    pub(crate) fn scope<'a>(
        &self,
        stream: &'a Stream,
        people: &'a People,
        mintime_ms: i64,
        maxtime_ms: i64,
        now_us: i64,
    ) -> Scope<'a> {
        Scope {
            stream,
            people,
            lo_us: mintime_ms.saturating_mul(1000).max(self.retained_from(now_us)),
            hi_us: maxtime_ms.saturating_mul(1000).saturating_add(999).min(now_us),
            now_us,
        }
    }

    fn v1_events(&self, stream: &Stream, people: &People, mintime_s: i64, now_us: i64) -> Vec<Event> {
        let scope = Scope {
            stream,
            people,
            lo_us: mintime_s
                .saturating_mul(1_000_000)
                .max(self.retained_from(now_us)),
            hi_us: now_us,
            now_us,
        };
        let mut events: Vec<Event> = Vec::new();
        let ties = self.config.v1_ties;
        let mut cap_second = None;
        self.walk(&scope, Order::Ascending, None, |event| {
            let second = event.at_us.div_euclid(1_000_000);
            match cap_second {
                None if events.len() < V1_CAP => {
                    events.push(*event);
                    if events.len() == V1_CAP {
                        cap_second = Some(second);
                        if ties == V1Ties::Cut {
                            return ControlFlow::Break(());
                        }
                    }
                    ControlFlow::Continue(())
                }
                Some(cap) if second == cap && ties == V1Ties::Include => {
                    events.push(*event);
                    ControlFlow::Continue(())
                }
                _ => {
                    if ties == V1Ties::Drop
                        && let Some(cap) = cap_second
                    {
                        // Leave out the whole last second, unless it is the whole page.
                        let kept = events.partition_point(|e| e.at_us.div_euclid(1_000_000) < cap);
                        if kept > 0 {
                            events.truncate(kept);
                        }
                    }
                    ControlFlow::Break(())
                }
            }
        });
        events
    }

    /// A v2 page: its events, the last of them when a cursor follows, and the window's total.
    fn v2_page(
        &self,
        stream: &Stream,
        people: &People,
        request: &query::Windowed,
        cursor: CursorShape,
        filter: &Filter,
        now_us: i64,
    ) -> (Vec<Event>, Option<Event>, u64) {
        let scope = self.scope(stream, people, request.mintime_ms, request.maxtime_ms, now_us);
        let total = self.count(&scope, filter.classes_only(), |e| filter.matches(e, people));
        let order = match request.sort {
            Sort::Ascending => Order::Ascending,
            Sort::Descending => Order::Descending,
        };
        let unit = cursor.unit_us();
        let mut events = Vec::with_capacity(request.limit.min(1000));
        let mut more = false;
        self.walk(&scope, order, request.after.map(|p| (p, unit)), |event| {
            if !filter.matches(event, people) {
                return ControlFlow::Continue(());
            }
            if events.len() == request.limit {
                more = true;
                return ControlFlow::Break(());
            }
            events.push(*event);
            if events.len() == request.limit && self.config.final_cursor == FinalCursor::FullPage {
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        });
        let next = match self.config.final_cursor {
            FinalCursor::FullPage if events.len() == request.limit => events.last().copied(),
            FinalCursor::Exact if more => events.last().copied(),
            _ => None,
        };
        (events, next, total)
    }

    /// Writes `events` comma-separated.
    fn render_all(
        &self,
        context: &Context<'_>,
        stream: Option<&Stream>,
        style: Style,
        events: &[Event],
        out: &mut Vec<u8>,
    ) {
        for (i, event) in events.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            self.render(context, stream, style, event, out);
        }
    }

    /// Writes `event` as `style` of its log shows it.
    fn render(
        &self,
        context: &Context<'_>,
        stream: Option<&Stream>,
        style: Style,
        event: &Event,
        out: &mut Vec<u8>,
    ) {
        let Some(stream) = stream else { return };
        match &stream.tables {
            Tables::Authentication(_) if style == Style::V1 => authentication::render_v1(context, event, out),
            Tables::Authentication(_) => {
                let kind = if event.class == ENROLLMENT {
                    "enrollment"
                } else {
                    "authentication"
                };
                authentication::render_v2(context, event, Some(kind), out);
            }
            Tables::Administrator(tables) => super::administrator::render(context, tables, event, out),
            Tables::Telephony(tables) if style == Style::V1 => tables.render_v1(context, event, out),
            Tables::Telephony(tables) => tables.render_v2(context, event, out),
            Tables::Activity(tables) => tables.render(context, event, out),
            Tables::OfflineEnrollment(tables) => tables.render(context, event, out),
            Tables::TrustMonitor(tables) => tables.render(context, event, out),
        }
    }

    /// Writes every event of `kind` visible at `now_us` in the inclusive millisecond window, oldest
    /// first, as a JSON array of the objects its newest endpoint lists.
    pub fn dump(
        &self,
        world: &World,
        kind: LogKind,
        mintime_ms: i64,
        maxtime_ms: i64,
        now_us: i64,
        out: &mut impl Write,
    ) -> std::io::Result<()> {
        let people = self.people(&world.scenario, &world.tenant);
        let context = self.context(people, world);
        out.write_all(b"[")?;
        if let Some(stream) = self.stream(kind) {
            let style = match kind {
                LogKind::Administrator | LogKind::OfflineEnrollment => Style::V1,
                LogKind::TrustMonitor => Style::Offset,
                _ => Style::V2 {
                    list: "",
                    cursor: CursorShape::TimeAndTxid,
                },
            };
            let scope = Scope {
                stream,
                people,
                lo_us: mintime_ms.saturating_mul(1000).max(self.retained_from(now_us)),
                hi_us: maxtime_ms.saturating_mul(1000).saturating_add(999).min(now_us),
                now_us,
            };
            let mut first = true;
            let mut buffer = Vec::with_capacity(4096);
            let mut failed = None;
            self.walk(&scope, Order::Ascending, None, |event| {
                buffer.clear();
                if !first {
                    buffer.extend_from_slice(b",\n");
                }
                first = false;
                self.render(&context, Some(stream), style, event, &mut buffer);
                match out.write_all(&buffer) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(error) => {
                        failed = Some(error);
                        ControlFlow::Break(())
                    }
                }
            });
            if let Some(error) = failed {
                return Err(error);
            }
        }
        out.write_all(b"]\n")
    }
}

/// A v2 `next_offset` for the page ending at `last`.
fn write_cursor(last: &Event, shape: CursorShape, out: &mut Vec<u8>) {
    match shape {
        CursorShape::TimeAndTxid => {
            out.extend_from_slice(b"[\"");
            write_int(out, last.at_us.div_euclid(1_000_000) * 1000);
            out.extend_from_slice(b"\",\"");
            authentication::write_txid(last, out);
            out.extend_from_slice(b"\"]");
        }
        CursorShape::Joined { mask } => {
            out.push(b'"');
            write_int(out, last.at_us.div_euclid(1000));
            out.push(b',');
            if mask == super::activity::ID_MASK {
                super::activity::write_activity_id(last, out);
            } else {
                super::telephony::write_telephony_id(last, out);
            }
            out.push(b'"');
        }
    }
}
