"""Outbound webhooks: the brand's systems subscribe to domain events and receive them, signed, over
HTTPS (docs/integrations.md).

- :mod:`.models`: subscriptions and their deliveries;
- :mod:`.operations`: the admin's use cases (subscribe, change, rotate the secret, redrive);
- :mod:`.addresses`: which URLs and addresses a delivery may go to;
- :mod:`.signing`: the body and the ``Loyalty-Signature`` header;
- :mod:`.delivery`: the outbox consumer that queues deliveries and the worker job that sends them.
"""
