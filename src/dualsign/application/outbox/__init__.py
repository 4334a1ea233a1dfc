"""What must happen after a command even if the process dies: durable jobs and webhook deliveries,
enqueued in the transaction of the event that calls for them."""
