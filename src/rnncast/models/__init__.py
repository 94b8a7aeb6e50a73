"""Neural network modules (the networks only; training lives in rnncast.training)."""
