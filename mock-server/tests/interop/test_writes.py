"""Write endpoints through Duo's official Python client: v5 (JSON bodies) and v2 (form bodies)."""

import hashlib

import pytest

SIGNING = {"v5": {}, "v2-sha512": {"sig_version": 2}, "v2-sha1": {"sig_version": 2, "digestmod": hashlib.sha1}}


@pytest.mark.parametrize("signing", SIGNING, ids=list(SIGNING))
def test_users_and_groups_are_written_and_read_back(servers, admin_for, signing):
    server = servers.new("read-write.toml")
    admin = admin_for(server.ready, **SIGNING[signing])
    before = len(admin.get_users())
    user = admin.add_user("j.smith+ops", realname="Jöhn Smith", email="js@acme.example", alias1="jsmith")
    assert (user["username"], user["realname"], user["alias1"]) == ("j.smith+ops", "Jöhn Smith", "jsmith")
    assert admin.get_users_by_name("jsmith") == [user]
    updated = admin.update_user(user["user_id"], status="bypass", notes="break-glass")
    assert (updated["status"], updated["notes"]) == ("bypass", "break-glass")
    group = admin.create_group("Auditors", desc="Access review")
    admin.add_user_group(user["user_id"], group["group_id"])
    assert admin.get_user_groups(user["user_id"]) == [group]
    assert admin.get_group_users(group["group_id"]) == [{"user_id": user["user_id"], "username": "j.smith+ops"}]
    admin.delete_user_group(user["user_id"], group["group_id"])
    assert admin.get_group_users(group["group_id"]) == []
    admin.delete_group(group["group_id"])
    admin.delete_user(user["user_id"])
    assert len(admin.get_users()) == before
    with pytest.raises(RuntimeError) as error:
        admin.get_user_by_id(user["user_id"])
    assert str(error.value) == "Received 404 Resource not found"


def test_writing_without_the_write_grant_is_forbidden(serve, admin_for):
    admin = admin_for(serve("read-write.toml"), "read-only")
    with pytest.raises(RuntimeError) as error:
        admin.add_user("nobody")
    assert str(error.value) == "Received 403 Access forbidden"
