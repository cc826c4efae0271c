"""A shared patch is applied by its first user and undone by its last, whatever the order of their undos."""

from drs_parity.world.shared_patch import SharedPatch, patch_registry_entry


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


def test_a_registry_entry_is_set_and_its_undo_leaves_the_registry_as_found() -> None:
    registry: dict[str, dict[str, object]] = {"ec2": {"query": "moto's"}}

    undo_new_group = patch_registry_entry(registry, "dynamodb", "json", "fast")
    undo_replaced = patch_registry_entry(registry, "ec2", "query", "planned")
    undo_added = patch_registry_entry(registry, "ec2", "ec2", "planned")
    assert registry == {"ec2": {"query": "planned", "ec2": "planned"}, "dynamodb": {"json": "fast"}}

    undo_added()
    undo_replaced()
    undo_new_group()
    assert registry == {"ec2": {"query": "moto's"}}
