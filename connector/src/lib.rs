//! Reference Duo connector (placeholder until its issue lands): syncs users, admins and groups.
