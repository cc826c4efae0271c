"""A shared patch is applied by its first user and undone by its last, whatever the order of their undos."""

from drs_parity.world.shared_patch import SharedPatch


def test_the_patch_lasts_until_its_last_user_undoes_it() -> None:
    events: list[str] = []
    patch = SharedPatch(lambda: events.append("apply") or (lambda: events.append("undo")))

    first, second = patch.install(), patch.install()
    first()
    first()  # a user's second undo does not count as another user's
    assert events == ["apply"]
    second()
    assert events == ["apply", "undo"]
    patch.install()()  # a new first user applies it again
    assert events == ["apply", "undo", "apply", "undo"]
