"""Training: data reading, the three stages, data-parallel runs under torchrun."""
