"""The worker process: samples the server's process tree (sampler, procfs), its limits and the
cgroup's memory (limits, cgroup_memory), and writes snapshots to the server (main)."""
