"""Background work: the job queue, the tasks it runs and the worker that runs them."""
