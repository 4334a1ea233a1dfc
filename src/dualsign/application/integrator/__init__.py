"""The integrator's side: tenants and API keys, templates and prompt audio, creating sessions and
their signer links."""
