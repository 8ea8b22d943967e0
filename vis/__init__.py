"""Feature browser: the static page, its data generator and the helpers that serve it."""
