//! Conformance kit (placeholder until its issue lands): drives a Duo connector against the fake.
