"""The suite's replay of fixture writes (tests/db_snapshot.py) gives back exactly what was written."""

import pytest
from django.contrib.auth.models import Group, User

from survey.roles import ANALYST
from tests.db_snapshot import replay


@pytest.mark.django_db
def test_rows_written_back_are_the_rows_the_build_wrote():
    def build():
        user = User.objects.create_user("snap-a", password="x", first_name="Ünïcode 名字")
        user.groups.add(Group.objects.get(name=ANALYST))
        User.objects.create_user("snap-b", password="y", is_active=False)

    def rows():
        users = User.objects.order_by("username").values_list(
            "username", "first_name", "password", "is_active"
        )
        links = User.groups.through.objects.values_list("user__username", "group__name")
        return list(users), sorted(links)

    assert replay(build) is False
    built = rows()
    User.objects.filter(username__startswith="snap-").delete()
    assert replay(lambda: pytest.fail("the build ran again from the same tables")) is True
    assert rows() == built
    # A later row gets a fresh key, not one of the rows written back.
    assert User.objects.create_user("snap-c").pk not in {
        u.pk for u in User.objects.exclude(username="snap-c")
    }
