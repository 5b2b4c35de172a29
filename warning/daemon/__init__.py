"""The daemon stage: scheduling, polling, reloads, health and metrics (`warning run`)."""
