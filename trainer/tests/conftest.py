import os

import pytest
import torch

os.environ.setdefault("DPTRAIN_NO_PROGRESS", "1")


@pytest.fixture(autouse=True)
def _single_thread():
    torch.set_num_threads(1)
    torch.manual_seed(0)
