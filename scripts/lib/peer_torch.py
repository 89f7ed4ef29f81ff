"""The teaching material's models in PyTorch, for the side-by-side benchmark (scripts/benchmark-peer.sh).

Same idx files, same normalisation ((x/255 - 0.1307) / 0.3081), same architectures and optimisers as the project's
defaults for the teaching configuration:
  lenet: conv 5x5x6, max-pool 2, conv 5x5x16, max-pool 2, dense 120, dense 84, softmax 10 (ReLU), 28x28 input;
         SGD, momentum 0.9, lr 0.01
  mlp:   784-256-128-10 (ReLU); Adam, lr 1e-3
The whole split is held in memory as one tensor and minibatches are index slices of a seeded permutation (the fastest
way PyTorch offers; no DataLoader workers). PyTorch's default initialisation. One JSON line per epoch on stdout:
epoch, fit seconds (the training loop only), examples/s, test accuracy and loss after the epoch.
Usage: python3 peer_torch.py DATA_DIR MODEL BATCH EPOCHS THREADS [SEED]
"""
import gzip
import json
import struct
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(data_dir, name):
    for candidate in (Path(data_dir) / name, Path(data_dir) / (name + ".gz")):
        if candidate.exists():
            opener = gzip.open if candidate.suffix == ".gz" else open
            with opener(candidate, "rb") as f:
                raw = f.read()
            break
    else:
        sys.exit(f"peer_torch.py: {name} not found in {data_dir}")
    magic, = struct.unpack(">I", raw[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, raw[4:4 + 4 * dims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def split(data_dir, prefix):
    images = read_idx(data_dir, f"{prefix}-images-idx3-ubyte").astype(np.float32)
    labels = read_idx(data_dir, f"{prefix}-labels-idx1-ubyte").astype(np.int64)
    x = torch.from_numpy((images / 255.0 - 0.1307) / 0.3081).unsqueeze(1).contiguous()
    return x, torch.from_numpy(labels)


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 4 * 4, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def main():
    data_dir, model_name, batch, epochs, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), \
        int(sys.argv[5])
    seed = int(sys.argv[6]) if len(sys.argv) > 6 else 42
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    x_train, y_train = split(data_dir, "train")
    x_test, y_test = split(data_dir, "t10k")
    if model_name == "lenet":
        model = LeNet5()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    elif model_name == "mlp":
        model = Mlp()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    else:
        sys.exit(f"peer_torch.py: unknown model {model_name} (lenet, mlp)")
    n = x_train.shape[0]
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(n)
        t0 = time.perf_counter()
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
        seconds = time.perf_counter() - t0
        model.eval()
        with torch.no_grad():
            logits = torch.cat([model(x_test[i:i + 1000]) for i in range(0, x_test.shape[0], 1000)])
            test_loss = F.cross_entropy(logits, y_test).item()
            accuracy = (logits.argmax(1) == y_test).float().mean().item()
        print(json.dumps({"epoch": epoch, "fitSeconds": seconds, "examplesPerSecond": n / seconds,
                          "testAccuracy": accuracy, "testLoss": test_loss, "threads": torch.get_num_threads(),
                          "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
