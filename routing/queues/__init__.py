"""Human support queues: configuration (from the policy file), opening hours, live counts and availability."""
