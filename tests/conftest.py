"""Shared test settings: one torch thread (2 threads are erratic on the 2-core CI machine)."""

import torch

torch.set_num_threads(1)
