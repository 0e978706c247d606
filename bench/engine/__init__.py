"""The engine: what a run does, in order. ``plan`` (the work, as data), ``pair_run`` (one model on
one dataset through the threads of ``threads``), ``runner`` (the serial run) and ``ray_executor``
(the same work as Ray shards). Both executors change the store only through its named operations."""
