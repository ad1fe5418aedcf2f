//! The activity log (public preview): who did what to which object, from where, through which
//! application; actors are the tenant's admins (or Duo itself), targets its real objects.

use super::access::{Access, write_iso, write_uuid};
use super::administrator::{any_admin, pick_target, target, write_json_string};
use super::answer::Context;
use super::config::{self, ActivityAction, LogTable};
use super::mix::Mix;
use super::people::People;
use super::random::{Draws, seed_of};
use super::{Event, NOBODY};
use crate::model::write_str;

/// Mixed into the seed an `activity_id` shows.
pub(crate) const ID_MASK: u64 = 0xAC71_0000_0000_AC71;

/// What activity events are made of.
#[derive(Debug)]
pub(crate) struct Tables {
    actions: Mix,
}

impl Tables {
    pub(crate) fn new(table: &LogTable) -> Self {
        Self {
            actions: Mix::given_or(table.actions.as_ref(), config::default_activity_actions),
        }
    }

    pub(crate) fn fill(&self, people: &People, event: &mut Event, draws: &mut Draws) {
        let second = event.at_us.div_euclid(1_000_000);
        event.what = self.actions.pick(draws);
        event.subject = if draws.chance(0.9) {
            any_admin(people, second, draws)
        } else {
            NOBODY
        };
        event.app = u16::try_from(draws.index(people.integrations.len())).unwrap_or(0);
        pick_target(people, self.actions.name(event.what), second, event, draws);
    }

    /// The event as `/admin/v2/logs/activity` lists it.
    pub(crate) fn render(&self, context: &Context<'_>, event: &Event, out: &mut Vec<u8>) {
        let people = context.people;
        let action = self.actions.name(event.what);
        let mut draws = Draws::new(seed_of(&[event.seed, 0xAC]));
        let access = Access::draw(&mut draws, u64::from(event.subject));
        out.extend_from_slice(b"{\"access_device\":{");
        access.write_browser(out);
        out.extend_from_slice(b",\"epkey\":null,\"ip\":{\"address\":");
        access.write_ip(None, out);
        out.extend_from_slice(b"},\"location\":");
        access.write_location(out);
        out.push(b',');
        access.write_os(out);
        out.extend_from_slice(b"},\"action\":");
        match context.config.activity_action {
            ActivityAction::Object => {
                out.extend_from_slice(b"{\"details\":null,\"name\":");
                write_str(out, action);
                out.push(b'}');
            }
            ActivityAction::String => write_str(out, action),
        }
        out.extend_from_slice(b",\"activity_id\":\"");
        write_activity_id(event, out);
        out.extend_from_slice(b"\",\"actor\":");
        match people.admins.get(event.subject as usize) {
            Some(admin) => {
                let mut details = b"{\"email\": ".to_vec();
                details.extend_from_slice(&admin.email);
                details.push(b'}');
                out.extend_from_slice(b"{\"details\":");
                write_json_string(out, &details);
                out.extend_from_slice(b",\"key\":");
                write_str(out, &admin.admin_id);
                out.extend_from_slice(b",\"name\":");
                out.extend_from_slice(&admin.name);
                out.extend_from_slice(b",\"type\":\"admin\"}");
            }
            None => {
                out.extend_from_slice(
                    b"{\"details\":null,\"key\":null,\"name\":\"Duo\",\"type\":\"system\"}",
                );
            }
        }
        out.extend_from_slice(b",\"akey\":");
        write_str(out, context.akey);
        out.extend_from_slice(b",\"application\":");
        match people.integrations.get(usize::from(event.app)) {
            Some(app) => {
                out.extend_from_slice(b"{\"key\":");
                write_str(out, &app.ikey);
                out.extend_from_slice(b",\"name\":");
                out.extend_from_slice(&app.name);
                out.extend_from_slice(b",\"type\":");
                write_str(out, app.kind);
                out.push(b'}');
            }
            None => out.extend_from_slice(b"null"),
        }
        let target = target(context, action, event);
        out.extend_from_slice(
            b",\"old_target\":null,\"outcome\":{\"result\":\"SUCCESS\"},\"target\":{\"details\":",
        );
        write_json_string(out, &target.description);
        out.extend_from_slice(b",\"key\":");
        out.extend_from_slice(&target.key);
        out.extend_from_slice(b",\"name\":");
        out.extend_from_slice(&target.object);
        out.extend_from_slice(b",\"type\":");
        write_str(out, target.kind);
        out.extend_from_slice(b"},\"ts\":\"");
        write_iso(out, event.at_us, true);
        out.extend_from_slice(b"\"}");
    }
}

/// `activity_id`: the microsecond within its millisecond, then the seed (masked), in hex.
pub(crate) fn write_activity_id(event: &Event, out: &mut Vec<u8>) {
    write_uuid(
        out,
        event.at_us.rem_euclid(1000).unsigned_abs(),
        3,
        event.seed ^ ID_MASK,
    );
}
