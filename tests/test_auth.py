"""Roles from settings (changeboard/auth.py): by e-mail, domain or group."""
import pytest

from changeboard import auth


@pytest.fixture
def roles(monkeypatch):
    def given(admins="", viewers="*", claim="groups", cab=""):
        monkeypatch.setenv("CHANGEBOARD_DATA_ADMINS", admins)
        monkeypatch.setenv("CHANGEBOARD_CAB_MEMBERS", cab)
        monkeypatch.setenv("CHANGEBOARD_VIEWERS", viewers)
        monkeypatch.setenv("CHANGEBOARD_GROUPS_CLAIM", claim)
    return given


def names(user):
    return [r.name for r in user.roles]


def test_roles_match_by_email_domain_and_group(roles):
    roles(admins="Ann@Acme.com, @ops.acme.com, group:cb-admins",
          viewers="@acme.com")
    def user(email, **claims):
        return auth.user_from_claims({"email": email, **claims})
    assert names(user("ann@acme.com")) == ["data_admin", "viewer"]
    assert names(user("bob@ops.acme.com")) == ["data_admin"]
    assert names(user("cy@acme.com", groups=["cb-admins"])) == [
        "data_admin", "viewer"]
    assert names(user("dee@acme.com")) == ["viewer"]
    # a domain matches the end of the address, not any substring
    assert names(user("eve@notacme.com")) == []
    assert names(user("eve@acme.com.evil.example")) == []
    assert not user("dee@acme.com").can(auth.LOAD)
    assert user("dee@acme.com").can(auth.VIEW)
    assert user("bob@ops.acme.com").can(auth.LOAD)


def test_a_groups_claim_of_another_name_or_one_string(roles):
    roles(admins="group:changeboard-admins", viewers="", claim="roles")
    assert names(auth.user_from_claims(
        {"email": "x@y.z", "roles": "changeboard-admins"})) == ["data_admin"]
    assert names(auth.user_from_claims(
        {"email": "x@y.z", "groups": ["changeboard-admins"]})) == []


def test_nobody_without_an_email_or_groups_gets_a_role(roles):
    roles(viewers="*")
    assert names(auth.user_from_claims({"sub": "123"})) == []
    assert names(auth.user_from_claims({"email": "a@b.c"})) == ["viewer"]


def test_a_user_name_in_place_of_an_email_matches_no_email_rule(roles):
    """A provider's user with no e-mail claim and the user name
    'ann@acme.example' was given the data admin role of that address:
    preferred_username is no verified e-mail. Groups and `*` still match."""
    roles(admins="ann@acme.example, group:admins", viewers="*")
    named = auth.user_from_claims({"sub": "mal",
                                   "preferred_username": "ann@acme.example"})
    assert named.email == "ann@acme.example"
    assert names(named) == ["viewer"] and not named.can(auth.LOAD)
    assert names(auth.user_from_claims(
        {"preferred_username": "ann@acme.example", "groups": ["admins"]})) \
        == ["data_admin", "viewer"]
    assert names(auth.user_from_claims({"email": "ann@acme.example"})) == [
        "data_admin", "viewer"]


def test_a_role_setting_holding_a_comment_is_named(monkeypatch):
    """deploy.md's settings file had `CHANGEBOARD_CAB_MEMBERS=group:<id>  #
    record CAB decisions`: systemd keeps the comment in the value, and the
    rule matched nobody, silently."""
    monkeypatch.setenv("CHANGEBOARD_CAB_MEMBERS",
                       "group:cab  # record CAB decisions")
    assert "cab_member" not in [  # why it must be said
        r.name for r in auth.roles_for("x@y.z", ["cab"])]
    assert auth.commented_rule() == (
        "CHANGEBOARD_CAB_MEMBERS holds a '#': a comment after a value is "
        "part of it in a systemd EnvironmentFile, and the rule would match "
        "nobody; put the comment on a line of its own")
    monkeypatch.setenv("CHANGEBOARD_CAB_MEMBERS", "group:cab")
    assert auth.commented_rule() is None


def test_role_rules_that_would_match_nobody_are_named(monkeypatch):
    """An admin wrote CHANGEBOARD_VIEWERS=acme.com, CHANGEBOARD_DATA_ADMINS=
    "ann@acme.com; bob@acme.com" and CHANGEBOARD_CAB_MEMBERS="group:
    cab-id": the app started and nobody had a role. Each faulty rule is
    named by its setting and place (never its value), with the fix; a space
    after group: names the group."""
    monkeypatch.setenv("CHANGEBOARD_VIEWERS", "acme.com")
    monkeypatch.setenv("CHANGEBOARD_DATA_ADMINS", "ann@acme.com; bob@acme.com")
    monkeypatch.setenv("CHANGEBOARD_CAB_MEMBERS", "group: cab-id")
    said = auth.rule_fault()
    assert said == (
        "CHANGEBOARD_DATA_ADMINS: its rule holds a ';' or a space (two "
        "rules where one was meant?); CHANGEBOARD_VIEWERS: its rule has no "
        "'@' (a domain is written with its '@': @acme.com). As written, "
        "they match nobody: a rule is an e-mail (ann@acme.com), a domain "
        "(@acme.com), group:NAME or *, and rules are separated by commas")
    assert "acme.com;" not in said and "cab-id" not in said
    assert [r.name for r in auth.roles_for("x@y.z", ["cab-id"])] == [
        "cab_member"]
    for viewers, fault in [("x@y.z, @", "rule 2 is not an e-mail domain"),
                           ("ann@", "its rule is not an e-mail"),
                           ("a@b@c", "its rule is not an e-mail")]:
        monkeypatch.setenv("CHANGEBOARD_VIEWERS", viewers)
        monkeypatch.setenv("CHANGEBOARD_DATA_ADMINS", "ann@acme.com,")
        monkeypatch.setenv("CHANGEBOARD_CAB_MEMBERS", "group:")
        assert auth.rule_fault().startswith(
            "CHANGEBOARD_CAB_MEMBERS: its rule names no group; "
            f"CHANGEBOARD_VIEWERS: {fault}. As written"), viewers
    # a wildcard, quotes an env file keeps, 'mailto:' (the re-check walk)
    for viewers, fault in [
            ("*@acme.example", "its rule holds '*', which no e-mail has (* "
             "alone means anyone; within a rule it matches nothing)"),
            ("@*.acme.example", "its rule holds '*'"),
            ('"ann@acme.example"', "its rule is in quotes (an env file "
             "keeps them as part of the value)"),
            ("mailto:ann@acme.example", "its rule holds ':', which no "
             "e-mail has. As written")]:
        monkeypatch.setenv("CHANGEBOARD_VIEWERS", viewers)
        assert f"CHANGEBOARD_VIEWERS: {fault}" in auth.rule_fault(), viewers
    monkeypatch.setenv("CHANGEBOARD_VIEWERS",
                       "*, @acme.com, group:Ops Team, o'neil@acme.com")
    monkeypatch.setenv("CHANGEBOARD_CAB_MEMBERS", "chair@acme.com")
    assert auth.rule_fault() is None


def test_a_cab_member_may_decide_and_a_viewer_or_data_admin_may_not(roles):
    roles(admins="ann@acme.com", viewers="@acme.com",
          cab="group:cab, chair@acme.com")
    member = auth.user_from_claims({"email": "bo@acme.com", "groups": ["cab"]})
    assert names(member) == ["cab_member", "viewer"]
    assert member.can(auth.DECIDE) and not member.can(auth.LOAD)
    assert member.role_label == "CAB member, Viewer"
    assert auth.user_from_claims({"email": "chair@acme.com"}).can(auth.DECIDE)
    assert not auth.user_from_claims({"email": "ann@acme.com"}).can(
        auth.DECIDE)
    assert not auth.user_from_claims({"email": "dee@acme.com"}).can(
        auth.DECIDE)


def test_single_user_mode_has_every_role_and_records_the_os_user():
    user = auth.single_user()
    assert not user.signed_in and user.can(auth.LOAD)
    assert user.can(auth.DECIDE)
    assert user.actor.startswith("local:")
    assert auth.cli_actor().startswith("cli:")


def test_every_role_is_one_entry_with_its_setting():
    from changeboard import config
    for role in auth.ROLES:
        assert role.setting in config.SETTINGS
        assert role.permissions <= {auth.VIEW, auth.LOAD, auth.DECIDE}


def test_missing_sign_in_settings_are_named():
    full = {"redirect_uri": "https://cb/oauth2callback", "cookie_secret": "c",
            "server_metadata_url": "https://idp/.well-known/x",
            "client_id": "i", "client_secret": "s"}
    assert auth.missing_settings(full) == []
    assert auth.missing_settings(None) == auth.missing_settings({}) != []
    assert auth.missing_settings({**full, "client_secret": ""}) == [
        "client_secret"]
    named = {"redirect_uri": "r", "cookie_secret": "c", "entra": {
        "server_metadata_url": "m", "client_id": "i", "client_secret": "s"}}
    assert auth.missing_settings(named) == []


def test_an_email_the_provider_has_not_verified_matches_no_email_rule(roles):
    """email_verified false (Keycloak, when a user types a new address in
    their account page; Cognito sends it as a string): the address is not
    theirs, so neither it nor its domain gives a role; groups and `*` do."""
    roles(admins="ann@acme.com, group:cb-admins", viewers="@acme.com",
          cab="chair@acme.com")
    for said in (False, "false", "False"):
        eve = auth.user_from_claims({"email": "ann@acme.com",
                                     "email_verified": said})
        assert names(eve) == [] and not eve.can(auth.LOAD)
        assert not auth.user_from_claims(
            {"email": "chair@acme.com", "email_verified": said}).can(
                auth.DECIDE)
    assert names(auth.user_from_claims(
        {"email": "ann@acme.com", "email_verified": False,
         "groups": ["cb-admins"]})) == ["data_admin"]
    for said in (True, "true", None):
        claims = {"email": "ann@acme.com", "email_verified": said}
        assert names(auth.user_from_claims(
            {k: v for k, v in claims.items() if v is not None})) == [
            "data_admin", "viewer"]
    roles(viewers="*")
    assert names(auth.user_from_claims(
        {"email": "x@y.z", "email_verified": False})) == ["viewer"]
