"""Hub selectors: who manages which hub."""


def test_user_is_hub_manager_only_where_the_user_manages(hubs, staff_ke_mba, manager_ke_mba, superuser):
    from hubs.selectors import hub_ids_managed_by, user_is_hub_manager

    mba, nbo = hubs["KE-MBA"].pk, hubs["KE-NBO"].pk
    assert user_is_hub_manager(user=manager_ke_mba, hub_id=mba)
    assert not user_is_hub_manager(user=manager_ke_mba, hub_id=nbo)
    assert not user_is_hub_manager(user=staff_ke_mba, hub_id=mba)  # a technician
    assert user_is_hub_manager(user=superuser, hub_id=nbo)
    assert hub_ids_managed_by(user=manager_ke_mba) == {mba}
