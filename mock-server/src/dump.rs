//! `duo-mock dump`: the tenant as one JSON document, objects exactly as the API returns them and
//! in the API's order, so tests and connectors have a ground truth to compare with.

use std::io::{self, Write};

use bytes::Bytes;

use crate::server::IntegrationInfo;
use crate::store::{JsonList, Tenant};

/// Writes `{"users","admins","groups","group_members",<each kind of device>,"integrations",
/// "integration_objects","admin_units","password_mgmt","activations","allowed_auth_methods",
/// "policies","policy_summary"}` to `out`: devices as their lists show them, with their owners;
/// `integrations` the keys and grants clients are given, `integration_objects` those
/// integrations as `/admin/v3/integrations` serves them.
pub fn write_dump(tenant: &Tenant, integrations: &[IntegrationInfo], out: &mut impl Write) -> io::Result<()> {
    out.write_all(b"{\"users\":")?;
    write_list(&tenant.users, out)?;
    out.write_all(b",\"admins\":")?;
    write_list(&tenant.admins, out)?;
    out.write_all(b",\"groups\":")?;
    write_list(&tenant.groups, out)?;
    out.write_all(b",\"group_members\":{")?;
    for (i, (group_id, members)) in tenant.group_ids.iter().zip(&tenant.group_members).enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, &**group_id)?;
        out.write_all(b":")?;
        write_list(members, out)?;
    }
    out.write_all(b"}")?;
    for (info, devices) in crate::devices::KINDS.iter().zip(tenant.all_devices()) {
        write!(out, ",\"{}\":", info.key)?;
        write_list(&devices.listed, out)?;
    }
    out.write_all(b",\"integrations\":")?;
    serde_json::to_writer(&mut *out, integrations)?;
    let account = &tenant.account;
    for (key, list) in [
        ("integration_objects", &account.integrations_v3),
        ("admin_units", &account.admin_units),
        ("password_mgmt", &account.password_mgmt),
        ("activations", &account.activations),
        ("policies", &account.policies),
    ] {
        write!(out, ",\"{key}\":")?;
        write_list(list, out)?;
    }
    for (key, object) in [
        ("allowed_auth_methods", &account.allowed_auth_methods),
        ("policy_summary", &account.policy_summary),
    ] {
        write!(out, ",\"{key}\":")?;
        out.write_all(if object.is_empty() { b"null" } else { object })?;
    }
    out.write_all(b"}\n")?;
    Ok(())
}

fn write_list(list: &JsonList, out: &mut impl Write) -> io::Result<()> {
    let mut parts: Vec<Bytes> = Vec::new();
    list.range_into(0, list.len(), &mut parts);
    out.write_all(b"[")?;
    for part in parts {
        out.write_all(&part)?;
    }
    out.write_all(b"]")
}
