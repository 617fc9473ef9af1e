"""Moving queued messages to their channels: claims under leases, retries, recovery."""
