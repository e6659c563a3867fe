"""The password rules (settings.AUTH_PASSWORD_VALIDATORS) hold wherever a password is chosen: the trader's
password-change page, the admin's "add user" and "change password" forms, and the createsuperuser and
changepassword commands. A refused password changes nothing; the answer says which rule it broke."""

from __future__ import annotations

import builtins
import getpass

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db

PASSWORD = "trader-pass-4821"
STRONG = "a-much-better-one-77"
# Each weak password breaks one rule (it passes the others), with the message that names that rule.
WEAK = {
    "short": ("k7#vq-2", "This password is too short. It must contain at least 10 characters."),
    "common": ("qwertyuiop", "This password is too common."),
    "numeric": ("8203746159", "This password is entirely numeric."),
    "like the username": ("tina.marsh01", "The password is too similar to the username."),
}


@pytest.fixture
def trader(django_user_model):
    return django_user_model.objects.create_user("tina.marsh", password=PASSWORD)  # not staff


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "root-pass-98765")


@pytest.mark.parametrize("rule", list(WEAK))
def test_the_password_change_page_refuses_each_weak_password(client, trader, rule):
    weak, message = WEAK[rule]
    client.force_login(trader)

    answer = client.post("/password/", {"old_password": PASSWORD, "new_password1": weak, "new_password2": weak})

    assert answer.status_code == 200
    assert message in answer.content.decode().replace("&#x27;", "'")
    trader.refresh_from_db()
    assert trader.check_password(PASSWORD) and not trader.check_password(weak)


@pytest.mark.parametrize("rule", list(WEAK))
def test_the_admin_add_user_form_refuses_each_weak_password(client, root, django_user_model, rule):
    weak, message = WEAK[rule]
    client.force_login(root)
    form = {"username": "tina.marsh", "usable_password": "true"}

    refused = client.post("/admin/auth/user/add/", {**form, "password1": weak, "password2": weak})
    made = client.post("/admin/auth/user/add/", {**form, "password1": STRONG, "password2": STRONG})

    assert refused.status_code == 200 and message in refused.content.decode().replace("&#x27;", "'")
    assert made.status_code == 302
    assert django_user_model.objects.get(username="tina.marsh").check_password(STRONG)


def test_the_admin_set_password_form_refuses_a_weak_password(client, root, trader):
    weak, message = WEAK["common"]
    client.force_login(root)
    url = f"/admin/auth/user/{trader.pk}/password/"

    refused = client.post(url, {"password1": weak, "password2": weak})
    changed = client.post(url, {"password1": STRONG, "password2": STRONG})

    assert refused.status_code == 200 and message in refused.content.decode()
    assert changed.status_code == 302
    trader.refresh_from_db()
    assert trader.check_password(STRONG)


def test_the_changepassword_command_refuses_weak_passwords(trader, monkeypatch):
    typed = iter(["12345", "12345"] * 3)  # three tries, each too short and numeric
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(typed))

    with pytest.raises(CommandError, match="Aborting password change for user 'tina.marsh' after 3 attempts"):
        call_command("changepassword", "tina.marsh")

    trader.refresh_from_db()
    assert trader.check_password(PASSWORD)


class _Terminal:
    """createsuperuser prompts only on a terminal."""

    def isatty(self) -> bool:
        return True


def test_createsuperuser_shows_the_rules_and_asks_before_taking_a_weak_password(django_user_model, monkeypatch, capsys):
    answers = iter(["ops", "ops@example.com", "n"])  # username, e-mail, then "no" to "bypass validation?"
    typed = iter(["qwertyuiop", "qwertyuiop", STRONG, STRONG])
    monkeypatch.setattr(builtins, "input", lambda prompt="": next(answers))
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(typed))

    call_command("createsuperuser", interactive=True, stdin=_Terminal())

    assert "This password is too common." in capsys.readouterr().err
    assert django_user_model.objects.get(username="ops").check_password(STRONG)
