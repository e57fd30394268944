"""Work orders for refurbishment partners: a hub hands devices and steps to a partner, and follows its progress.

Who may reach a device is answered where every other scope is (``hubs.selectors.restrict_to_user_hubs`` with
``Device.partner_scope``); which step a partner's user may take on it, and until when, is one lifecycle guard
(``lifecycle.within_partner_work_order``), which every surface reaches through ``device_transition``.
"""
