"""Use cases: one function per command, each in one unit of work. Grouped by capability (integrator,
signer, perception, qc, evidence, review, outbox) over what they share: the ports, the records and the
event store."""
